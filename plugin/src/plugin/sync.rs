//! Locking for the plugin's non-real-time threads (editor, background tasks, host main thread).
//! The audio thread never takes a lock.

use std::sync::{Arc, Mutex, MutexGuard, RwLock};

/// Locks `m`, also after a panic elsewhere poisoned it (the data stays usable).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Wakes the editor, if one is open, to draw what changed off its own thread (a score
/// published, a load's progress): the editor rests when nothing moves, so what changes must say
/// so. Never called on the audio thread.
#[derive(Default)]
pub struct Wake(RwLock<Option<Arc<dyn Fn() + Send + Sync>>>);

impl Wake {
    /// What waking does from now on (`None`: nothing, the editor closed).
    pub fn set(&self, wake: Option<Arc<dyn Fn() + Send + Sync>>) {
        *self
            .0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = wake;
    }

    pub fn wake(&self) {
        let wake = self
            .0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        if let Some(wake) = wake {
            wake();
        }
    }
}
