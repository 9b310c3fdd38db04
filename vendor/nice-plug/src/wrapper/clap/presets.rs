//! Pixelody patch: presets for the host's own browser. The preset discovery factory
//! (`clap.preset-discovery-factory/2`) lets a host index a plug-in's presets without an instance:
//! those inside the plug-in and the user's preset files, with names, descriptions and features.
//! The `clap.preset-load` extension (see the wrapper) loads one into an instance. A plug-in takes
//! part through `ClapPlugin::clap_preset_index`, `clap_preset_file` and `clap_preset_loader`.

use std::ffi::{CStr, CString, c_char, c_void};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use clap_sys::factory::preset_discovery::{
    CLAP_PRESET_DISCOVERY_IS_FACTORY_CONTENT, CLAP_PRESET_DISCOVERY_IS_USER_CONTENT,
    CLAP_PRESET_DISCOVERY_LOCATION_FILE, CLAP_PRESET_DISCOVERY_LOCATION_PLUGIN,
    clap_preset_discovery_factory, clap_preset_discovery_filetype, clap_preset_discovery_indexer,
    clap_preset_discovery_location, clap_preset_discovery_location_kind,
    clap_preset_discovery_metadata_receiver, clap_preset_discovery_provider,
    clap_preset_discovery_provider_descriptor,
};
use clap_sys::universal_plugin_id::clap_universal_plugin_id;
use clap_sys::version::CLAP_VERSION;
use nice_plug_core::params::internals::ParamPtr;

use super::ClapPlugin;

/// One preset as a host's browser lists it.
pub struct ClapPresetInfo {
    pub name: String,
    /// What `clap.preset-load` is given back to load it (for presets inside the plug-in; a file
    /// holding one preset is loaded by its path alone).
    pub load_key: String,
    pub description: String,
    /// Tags for the host's browser ("ambient", "compose").
    pub features: Vec<String>,
}

/// Where a plug-in's presets are: those inside it, and the folder of the user's preset files.
pub struct ClapPresetIndex {
    /// The user's preset files' extension, without the dot ("json").
    pub file_extension: &'static str,
    /// What the files are, for the host ("Pixelody preset").
    pub file_type_name: &'static str,
    pub factory: Vec<ClapPresetInfo>,
    pub user_folder: Option<PathBuf>,
}

/// Loads presets into an instance (`clap.preset-load`): the parameters to set, as the plug-in's
/// own preset menu sets them. Called on the main thread; the wrapper sends the changes to the
/// host and the audio thread as the editor's changes go.
pub trait ClapPresetLoader: Send + Sync {
    /// The preset inside the plug-in named by `load_key` (`file` is `None`), or the preset in
    /// `file`: every parameter it moves with its normalized value, or why it cannot be loaded.
    fn load(&self, file: Option<&Path>, load_key: Option<&str>)
    -> Result<Vec<(ParamPtr, f32)>, String>;
}

/// A plug-in type's part in the factory, type-erased so one factory serves every exported type.
pub struct PresetProviderEntry {
    clap_id: CString,
    provider_id: CString,
    name: CString,
    vendor: CString,
    index: fn() -> Option<ClapPresetIndex>,
    file: fn(&Path) -> Result<ClapPresetInfo, String>,
    descriptor: clap_preset_discovery_provider_descriptor,
}

// SAFETY: the descriptor's pointers point into the entry's own strings, which never change.
unsafe impl Send for PresetProviderEntry {}
unsafe impl Sync for PresetProviderEntry {}

impl PresetProviderEntry {
    /// `P`'s provider, or `None` when it has no presets for hosts.
    pub fn for_plugin<P: ClapPlugin>() -> Option<Self> {
        P::clap_preset_index()?;
        let text = |s: &str| CString::new(s).unwrap_or_default();
        let mut entry = PresetProviderEntry {
            clap_id: text(P::CLAP_ID),
            provider_id: text(&format!("{}.presets", P::CLAP_ID)),
            name: text(&format!("{} presets", P::NAME)),
            vendor: text(P::VENDOR),
            index: P::clap_preset_index,
            file: P::clap_preset_file,
            descriptor: clap_preset_discovery_provider_descriptor {
                clap_version: CLAP_VERSION,
                id: std::ptr::null(),
                name: std::ptr::null(),
                vendor: std::ptr::null(),
            },
        };
        entry.descriptor.id = entry.provider_id.as_ptr();
        entry.descriptor.name = entry.name.as_ptr();
        entry.descriptor.vendor = entry.vendor.as_ptr();
        Some(entry)
    }
}

/// The factory a library exports: one provider per plug-in type with presets.
#[repr(C)]
pub struct PresetDiscoveryFactory {
    raw: clap_preset_discovery_factory,
    entries: Vec<PresetProviderEntry>,
}

// SAFETY: see `PresetProviderEntry`; the raw factory holds only function pointers.
unsafe impl Send for PresetDiscoveryFactory {}
unsafe impl Sync for PresetDiscoveryFactory {}

impl PresetDiscoveryFactory {
    pub fn new(entries: Vec<PresetProviderEntry>) -> Self {
        PresetDiscoveryFactory {
            raw: clap_preset_discovery_factory {
                count: Some(Self::count),
                get_descriptor: Some(Self::get_descriptor),
                create: Some(Self::create),
            },
            entries,
        }
    }

    /// The factory for `get_factory`, or null when no plug-in type has presets.
    pub fn as_raw(this: &'static OnceLock<Self>, init: fn() -> Self) -> *const c_void {
        let factory = this.get_or_init(init);
        if factory.entries.is_empty() {
            return std::ptr::null();
        }
        factory as *const Self as *const c_void
    }

    unsafe fn from_raw<'a>(factory: *const clap_preset_discovery_factory) -> Option<&'a Self> {
        // SAFETY: the host passes back the pointer `as_raw` gave, which starts with `raw`.
        unsafe { (factory as *const Self).as_ref() }
    }

    unsafe extern "C" fn count(factory: *const clap_preset_discovery_factory) -> u32 {
        unsafe { Self::from_raw(factory) }.map_or(0, |f| f.entries.len() as u32)
    }

    unsafe extern "C" fn get_descriptor(
        factory: *const clap_preset_discovery_factory,
        index: u32,
    ) -> *const clap_preset_discovery_provider_descriptor {
        unsafe { Self::from_raw(factory) }
            .and_then(|f| f.entries.get(index as usize))
            .map_or(std::ptr::null(), |e| &e.descriptor)
    }

    unsafe extern "C" fn create(
        factory: *const clap_preset_discovery_factory,
        indexer: *const clap_preset_discovery_indexer,
        provider_id: *const c_char,
    ) -> *const clap_preset_discovery_provider {
        let Some(factory) = (unsafe { Self::from_raw(factory) }) else {
            return std::ptr::null();
        };
        if indexer.is_null() || provider_id.is_null() {
            return std::ptr::null();
        }
        let id = unsafe { CStr::from_ptr(provider_id) };
        let Some(entry) = factory.entries.iter().find(|e| e.provider_id.as_c_str() == id) else {
            return std::ptr::null();
        };
        let provider = Box::new(Provider {
            raw: clap_preset_discovery_provider {
                desc: &entry.descriptor,
                provider_data: std::ptr::null_mut(),
                init: Some(Provider::init),
                destroy: Some(Provider::destroy),
                get_metadata: Some(Provider::get_metadata),
                get_extension: Some(Provider::get_extension),
            },
            entry,
            indexer,
            index: None,
        });
        let provider = Box::into_raw(provider);
        // SAFETY: just made; `provider_data` lets the callbacks find their provider.
        unsafe { (*provider).raw.provider_data = provider as *mut c_void };
        provider as *const clap_preset_discovery_provider
    }
}

/// One host's crawl of one plug-in type's presets.
#[repr(C)]
struct Provider {
    raw: clap_preset_discovery_provider,
    entry: &'static PresetProviderEntry,
    indexer: *const clap_preset_discovery_indexer,
    /// Read at `init`: the factory presets and the user's folder.
    index: Option<ClapPresetIndex>,
}

impl Provider {
    unsafe fn from_raw<'a>(provider: *const clap_preset_discovery_provider) -> Option<&'a mut Self> {
        // SAFETY: the host passes back the pointer `create` made; the host calls a provider
        // from one thread at a time.
        unsafe { (provider as *mut Self).as_mut() }
    }

    unsafe extern "C" fn init(provider: *const clap_preset_discovery_provider) -> bool {
        let Some(this) = (unsafe { Self::from_raw(provider) }) else {
            return false;
        };
        let Some(index) = (this.entry.index)() else {
            return false;
        };
        // SAFETY: the host's indexer lives as long as the provider.
        let indexer = unsafe { &*this.indexer };
        let text = |s: &str| CString::new(s).unwrap_or_default();
        let (type_name, extension) = (text(index.file_type_name), text(index.file_extension));
        let filetype = clap_preset_discovery_filetype {
            name: type_name.as_ptr(),
            description: type_name.as_ptr(),
            file_extension: extension.as_ptr(),
        };
        let mut ok = match indexer.declare_filetype {
            Some(declare) => unsafe { declare(indexer, &filetype) },
            None => false,
        };
        let factory_name = text("Factory presets");
        let inside = clap_preset_discovery_location {
            flags: CLAP_PRESET_DISCOVERY_IS_FACTORY_CONTENT,
            name: factory_name.as_ptr(),
            kind: CLAP_PRESET_DISCOVERY_LOCATION_PLUGIN,
            location: std::ptr::null(),
        };
        if let Some(declare) = indexer.declare_location {
            ok &= unsafe { declare(indexer, &inside) };
            if let Some(folder) = &index.user_folder {
                let (user_name, path) = (text("User presets"), text(&folder.to_string_lossy()));
                let user = clap_preset_discovery_location {
                    flags: CLAP_PRESET_DISCOVERY_IS_USER_CONTENT,
                    name: user_name.as_ptr(),
                    kind: CLAP_PRESET_DISCOVERY_LOCATION_FILE,
                    location: path.as_ptr(),
                };
                ok &= unsafe { declare(indexer, &user) };
            }
        } else {
            ok = false;
        }
        this.index = Some(index);
        ok
    }

    unsafe extern "C" fn destroy(provider: *const clap_preset_discovery_provider) {
        if !provider.is_null() {
            // SAFETY: made by `Box::into_raw` in `create`; the host destroys it once.
            drop(unsafe { Box::from_raw(provider as *mut Self) });
        }
    }

    unsafe extern "C" fn get_metadata(
        provider: *const clap_preset_discovery_provider,
        location_kind: clap_preset_discovery_location_kind,
        location: *const c_char,
        receiver: *const clap_preset_discovery_metadata_receiver,
    ) -> bool {
        let Some(this) = (unsafe { Self::from_raw(provider) }) else {
            return false;
        };
        let Some(receiver) = (unsafe { receiver.as_ref() }) else {
            return false;
        };
        let Some(index) = &this.index else {
            return false;
        };
        match location_kind {
            CLAP_PRESET_DISCOVERY_LOCATION_PLUGIN => {
                index
                    .factory
                    .iter()
                    .all(|preset| describe(receiver, this.entry, preset, FACTORY, true))
            }
            CLAP_PRESET_DISCOVERY_LOCATION_FILE if !location.is_null() => {
                let path = unsafe { CStr::from_ptr(location) }.to_string_lossy();
                match (this.entry.file)(Path::new(path.as_ref())) {
                    Ok(preset) => describe(receiver, this.entry, &preset, USER, false),
                    Err(why) => {
                        if let Some(on_error) = receiver.on_error {
                            let why = CString::new(why).unwrap_or_default();
                            unsafe { on_error(receiver, 0, why.as_ptr()) };
                        }
                        false
                    }
                }
            }
            _ => false,
        }
    }

    unsafe extern "C" fn get_extension(
        _provider: *const clap_preset_discovery_provider,
        _extension_id: *const c_char,
    ) -> *const c_void {
        std::ptr::null()
    }
}

const FACTORY: u32 = CLAP_PRESET_DISCOVERY_IS_FACTORY_CONTENT;
const USER: u32 = CLAP_PRESET_DISCOVERY_IS_USER_CONTENT;

/// Tells the host about one preset. A file's only preset has no load key (its path loads it).
fn describe(
    receiver: &clap_preset_discovery_metadata_receiver,
    entry: &PresetProviderEntry,
    preset: &ClapPresetInfo,
    flags: u32,
    keyed: bool,
) -> bool {
    let text = |s: &str| CString::new(s).unwrap_or_default();
    let (name, key) = (text(&preset.name), text(&preset.load_key));
    let Some(begin) = receiver.begin_preset else {
        return false;
    };
    let key = if keyed { key.as_ptr() } else { std::ptr::null() };
    if !unsafe { begin(receiver, name.as_ptr(), key) } {
        return false;
    }
    let abi = text("clap");
    let id = clap_universal_plugin_id {
        abi: abi.as_ptr(),
        id: entry.clap_id.as_ptr(),
    };
    unsafe {
        if let Some(add) = receiver.add_plugin_id {
            add(receiver, &id);
        }
        if let Some(set) = receiver.set_flags {
            set(receiver, flags);
        }
        if let Some(set) = receiver.set_description {
            let description = text(&preset.description);
            set(receiver, description.as_ptr());
        }
        if let Some(add) = receiver.add_feature {
            for feature in &preset.features {
                let feature = text(feature);
                add(receiver, feature.as_ptr());
            }
        }
    }
    true
}
