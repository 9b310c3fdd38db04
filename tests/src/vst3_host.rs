//! A small in-process VST3 host for what DawDreamer (the VST3 host of the Python suite) cannot
//! reach: the program list a host's preset drop-down shows, switching programs the way hosts do
//! (setting the program change parameter on the edit controller), and the key names of a drum
//! editor. It loads the built bundle's library, makes the plug-in's component, and talks to it
//! through the VST3 interfaces as a DAW does, recording what the plug-in tells the host.

use std::ffi::c_void;
use std::path::Path;
use std::sync::Mutex;

use vst3::Steinberg::Vst::ParameterInfo_::ParameterFlags_;
use vst3::Steinberg::Vst::{
    IComponent, IComponentHandler, IComponentHandlerTrait, IEditController, IEditControllerTrait,
    IUnitInfo, IUnitInfoTrait, ParamID, ParamValue, ParameterInfo, ProgramListInfo, String128,
    UnitInfo,
};
use vst3::Steinberg::{
    int32, kResultOk, tresult, IPluginBaseTrait, IPluginFactory, IPluginFactoryTrait, PClassInfo,
};
use vst3::{Class, ComPtr, ComWrapper, Interface};

/// The VST3 bundle in target/bundled (`cargo xtask test` bundles it first).
pub fn vst3_bundle() -> std::path::PathBuf {
    let path = crate::target_dir().join("bundled/Pixelody.vst3");
    assert!(
        path.exists(),
        "{} is missing: run `cargo xtask test` (it bundles the plugin first)",
        path.display()
    );
    path
}

/// What the plug-in told the host through its `IComponentHandler`.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    Begin(ParamID),
    Perform(ParamID, ParamValue),
    End(ParamID),
    Restart(int32),
}

/// The host's side of the edit controller: records every call.
#[derive(Default)]
pub struct Handler {
    pub edits: Mutex<Vec<Edit>>,
}

impl Handler {
    fn note(&self, edit: Edit) -> tresult {
        self.edits
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(edit);
        kResultOk
    }
}

impl Class for Handler {
    type Interfaces = (IComponentHandler,);
}

impl IComponentHandlerTrait for Handler {
    unsafe fn beginEdit(&self, id: ParamID) -> tresult {
        self.note(Edit::Begin(id))
    }

    unsafe fn performEdit(&self, id: ParamID, value: ParamValue) -> tresult {
        self.note(Edit::Perform(id, value))
    }

    unsafe fn endEdit(&self, id: ParamID) -> tresult {
        self.note(Edit::End(id))
    }

    unsafe fn restartComponent(&self, flags: int32) -> tresult {
        self.note(Edit::Restart(flags))
    }
}

/// One parameter as the host lists it.
#[derive(Debug, Clone)]
pub struct Vst3Param {
    pub id: ParamID,
    pub title: String,
    pub step_count: i32,
    pub unit: i32,
    pub flags: i32,
}

impl Vst3Param {
    pub fn is_program_change(&self) -> bool {
        self.flags & ParameterFlags_::kIsProgramChange != 0
    }
}

/// A unit as the host lists it.
#[derive(Debug, Clone)]
pub struct Vst3Unit {
    pub id: i32,
    pub parent: i32,
    pub name: String,
    pub program_list: i32,
}

/// A program list as the host lists it.
#[derive(Debug, Clone)]
pub struct Vst3ProgramList {
    pub id: i32,
    pub name: String,
    pub programs: Vec<String>,
}

/// One plug-in instance, initialised and connected to a recording [`Handler`] (not activated:
/// a host that shows its drop-down before any audio runs).
pub struct Vst3Host {
    instance: std::mem::ManuallyDrop<Instance>,
    library: libloading::Library,
}

/// The plug-in's objects, released before the module exits.
pub struct Instance {
    component: ComPtr<IComponent>,
    controller: ComPtr<IEditController>,
    units: Option<ComPtr<IUnitInfo>>,
    handler: ComWrapper<Handler>,
    _factory: ComPtr<IPluginFactory>,
}

impl std::ops::Deref for Vst3Host {
    type Target = Instance;

    fn deref(&self) -> &Instance {
        &self.instance
    }
}

fn text(chars: &String128) -> String {
    let end = chars.iter().position(|c| *c == 0).unwrap_or(chars.len());
    String::from_utf16_lossy(&chars[..end])
}

impl Vst3Host {
    /// Loads the bundle's library and makes the plug-in's audio component.
    pub fn load(bundle: &Path) -> Self {
        let so = bundle.join("Contents/x86_64-linux/Pixelody.so");
        // SAFETY: the plug-in's library, loaded as hosts load it; its entry points are called
        // with the VST3 signatures.
        unsafe {
            let library = libloading::Library::new(&so).expect("the VST3 library loads");
            let entry: libloading::Symbol<unsafe extern "system" fn(*mut c_void) -> bool> =
                library.get(b"ModuleEntry\0").expect("ModuleEntry");
            assert!(entry(std::ptr::null_mut()), "ModuleEntry refused");
            let get_factory: libloading::Symbol<
                unsafe extern "system" fn() -> *mut IPluginFactory,
            > = library
                .get(b"GetPluginFactory\0")
                .expect("GetPluginFactory");
            let factory = ComPtr::from_raw(get_factory()).expect("a plug-in factory");
            let mut cid = None;
            for index in 0..factory.countClasses() {
                let mut info: PClassInfo = std::mem::zeroed();
                assert_eq!(factory.getClassInfo(index, &mut info), kResultOk);
                let category: Vec<u8> = info
                    .category
                    .iter()
                    .take_while(|c| **c != 0)
                    .map(|c| *c as u8)
                    .collect();
                if category == b"Audio Module Class" {
                    cid = Some(info.cid);
                }
            }
            let cid = cid.expect("an audio module class");
            let mut object: *mut c_void = std::ptr::null_mut();
            let iid = IComponent::IID;
            assert_eq!(
                factory.createInstance(cid.as_ptr(), iid.as_ptr() as *const _, &mut object),
                kResultOk
            );
            let component = ComPtr::from_raw(object as *mut IComponent).expect("a component");
            assert_eq!(component.initialize(std::ptr::null_mut()), kResultOk);
            // The component is its own edit controller (a single-component plug-in).
            let controller = component
                .cast::<IEditController>()
                .expect("the component is its own edit controller");
            let units = component.cast::<IUnitInfo>();
            let handler = ComWrapper::new(Handler::default());
            let for_plugin = handler
                .to_com_ptr::<IComponentHandler>()
                .expect("the handler's interface");
            assert_eq!(
                controller.setComponentHandler(for_plugin.as_ptr()),
                kResultOk
            );
            Self {
                instance: std::mem::ManuallyDrop::new(Instance {
                    component,
                    controller,
                    units,
                    handler,
                    _factory: factory,
                }),
                library,
            }
        }
    }

    /// Every parameter as the host lists it.
    pub fn params(&self) -> Vec<Vst3Param> {
        // SAFETY: calls into the plug-in with valid out-pointers, on this (the main) thread.
        unsafe {
            (0..self.controller.getParameterCount())
                .map(|index| {
                    let mut info: ParameterInfo = std::mem::zeroed();
                    assert_eq!(
                        self.controller.getParameterInfo(index, &mut info),
                        kResultOk
                    );
                    Vst3Param {
                        id: info.id,
                        title: text(&info.title),
                        step_count: info.stepCount,
                        unit: info.unitId,
                        flags: info.flags,
                    }
                })
                .collect()
        }
    }

    /// Whether the plug-in answers a parameter index one past its list (it must refuse it).
    pub fn refuses_param_index(&self, index: i32) -> bool {
        // SAFETY: as in `params`.
        unsafe {
            let mut info: ParameterInfo = std::mem::zeroed();
            self.controller.getParameterInfo(index, &mut info) != kResultOk
        }
    }

    /// Every unit as the host lists it.
    pub fn units(&self) -> Vec<Vst3Unit> {
        let Some(units) = &self.units else {
            return Vec::new();
        };
        // SAFETY: as in `params`.
        unsafe {
            (0..units.getUnitCount())
                .map(|index| {
                    let mut info: UnitInfo = std::mem::zeroed();
                    assert_eq!(units.getUnitInfo(index, &mut info), kResultOk);
                    Vst3Unit {
                        id: info.id,
                        parent: info.parentUnitId,
                        name: text(&info.name),
                        program_list: info.programListId,
                    }
                })
                .collect()
        }
    }

    /// Every program list with its programs' names, as a host fills its drop-down.
    pub fn program_lists(&self) -> Vec<Vst3ProgramList> {
        let Some(units) = &self.units else {
            return Vec::new();
        };
        // SAFETY: as in `params`.
        unsafe {
            (0..units.getProgramListCount())
                .map(|index| {
                    let mut info: ProgramListInfo = std::mem::zeroed();
                    assert_eq!(units.getProgramListInfo(index, &mut info), kResultOk);
                    let programs = (0..info.programCount)
                        .map(|program| {
                            let mut name: String128 = [0; 128];
                            assert_eq!(
                                units.getProgramName(info.id, program, &mut name),
                                kResultOk
                            );
                            text(&name)
                        })
                        .collect();
                    Vst3ProgramList {
                        id: info.id,
                        name: text(&info.name),
                        programs,
                    }
                })
                .collect()
        }
    }

    /// The name of `key` in program `program` of list `list`, if the plug-in names it.
    pub fn pitch_name(&self, list: i32, program: i32, key: i16) -> Option<String> {
        let units = self.units.as_ref()?;
        // SAFETY: as in `params`.
        unsafe {
            if units.hasProgramPitchNames(list, program) != kResultOk {
                return None;
            }
            let mut name: String128 = [0; 128];
            (units.getProgramPitchName(list, program, key, &mut name) == kResultOk)
                .then(|| text(&name))
        }
    }

    /// Sets a parameter on the edit controller, as a host's own control (its preset drop-down
    /// for the program change parameter) does.
    pub fn set_param(&self, id: ParamID, normalized: f64) -> tresult {
        // SAFETY: as in `params`.
        unsafe { self.controller.setParamNormalized(id, normalized) }
    }

    /// A parameter's normalized value as the edit controller reports it.
    pub fn param(&self, id: ParamID) -> f64 {
        // SAFETY: as in `params`.
        unsafe { self.controller.getParamNormalized(id) }
    }

    /// A normalized value as the plug-in names it.
    pub fn param_text(&self, id: ParamID, normalized: f64) -> Option<String> {
        let mut name: String128 = [0; 128];
        // SAFETY: as in `params`.
        let ok = unsafe {
            self.controller
                .getParamStringByValue(id, normalized, &mut name)
        };
        (ok == kResultOk).then(|| text(&name))
    }

    /// What the plug-in told the host since the last call.
    pub fn take_edits(&self) -> Vec<Edit> {
        std::mem::take(
            &mut *self
                .handler
                .edits
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }
}

impl Drop for Vst3Host {
    fn drop(&mut self) {
        // SAFETY: the plug-in is torn down as hosts do: terminated and released, then the module
        // exits, then the library is unloaded (it drops after this).
        unsafe {
            self.controller.setComponentHandler(std::ptr::null_mut());
            self.component.terminate();
            std::mem::ManuallyDrop::drop(&mut self.instance);
            if let Ok(exit) = self
                .library
                .get::<unsafe extern "system" fn() -> bool>(b"ModuleExit\0")
            {
                exit();
            }
        }
    }
}
