//! Pixelody patch: `XdndProxy` on the host's windows while the plug-in window is embedded.
//!
//! GTK drag sources (every GTK file manager, Firefox) send XDND messages only to the top-level
//! window under the pointer, or to the window named by that top-level's `XdndProxy` property;
//! they never descend into a plug-in window embedded in a host's window, and Qt 5 stops at the
//! host's window when that one is XdndAware. The remedy plug-ins use (LSP, recommended by
//! Ardour's developers): while embedded, every ancestor up to the root names the plug-in window
//! as its `XdndProxy`, and the plug-in window names itself (the specification's check that a
//! proxy is meant). The properties found before are put back when the window closes or moves to
//! another parent, unless someone else replaced ours meanwhile.

use super::prelude::*;
use std::cell::RefCell;
use x11rb::protocol::xproto::{self, AtomEnum, PropMode};
use x11rb::wrapper::ConnectionExt as _;

/// The ancestors this window set `XdndProxy` on, with the value each had before.
#[derive(Default)]
pub struct XdndProxies {
    set: RefCell<Vec<(xproto::Window, Option<xproto::Window>)>>,
}

impl XdndProxies {
    /// Names `window` as the drop proxy of each of its ancestors below the root, and of itself.
    /// Any earlier set is restored first. X errors (an ancestor already gone) are not fatal.
    pub fn install(&self, conn: &X11Connection, window: xproto::Window) {
        self.restore(conn, window);
        let root = conn.default_screen().root;
        let mut set = Vec::new();
        let mut current = window;
        // A bounded walk: a window tree is never this deep, and a broken reply must not loop.
        for _ in 0..64 {
            let parent = match conn.conn.query_tree(current).map(|c| c.reply()) {
                Ok(Ok(tree)) => tree.parent,
                _ => break,
            };
            if parent == root || parent == x11rb::NONE {
                break;
            }
            let previous = read_proxy(conn, parent);
            if set_proxy(conn, parent, window) {
                set.push((parent, previous));
            }
            current = parent;
        }
        set_proxy(conn, window, window);
        let _ = conn.conn.flush();
        *self.set.borrow_mut() = set;
    }

    /// Whether `window` is one of the ancestors that name this window as their proxy.
    pub fn contains(&self, window: xproto::Window) -> bool {
        self.set.borrow().iter().any(|(w, _)| *w == window)
    }

    /// Puts back what `install` replaced, where the property still names `window`.
    pub fn restore(&self, conn: &X11Connection, window: xproto::Window) {
        let set = std::mem::take(&mut *self.set.borrow_mut());
        for (ancestor, previous) in set {
            if read_proxy(conn, ancestor) != Some(window) {
                continue;
            }
            match previous {
                Some(p) => {
                    set_proxy(conn, ancestor, p);
                }
                None => {
                    if let Ok(cookie) =
                        conn.conn.delete_property(ancestor, conn.atoms.XdndProxy)
                    {
                        let _ = cookie.check();
                    }
                }
            }
        }
        let _ = conn.conn.flush();
    }
}

fn read_proxy(conn: &X11Connection, window: xproto::Window) -> Option<xproto::Window> {
    conn.get_property::<u32>(window, conn.atoms.XdndProxy, AtomEnum::WINDOW.into())
        .ok()
        .and_then(|v| v.first().copied())
}

fn set_proxy(conn: &X11Connection, window: xproto::Window, proxy: xproto::Window) -> bool {
    match conn.conn.change_property32(
        PropMode::REPLACE,
        window,
        conn.atoms.XdndProxy,
        AtomEnum::WINDOW,
        &[proxy],
    ) {
        Ok(cookie) => cookie.check().is_ok(),
        Err(_) => false,
    }
}
