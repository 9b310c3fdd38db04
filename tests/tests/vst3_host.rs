//! The built VST3 plug-in in a small in-process VST3 host (`pixelody_tests::vst3_host`): what a
//! host's preset drop-down and drum editor read, which DawDreamer cannot reach.

use pixelody::plugin::presets;
use pixelody::score::drum;
use pixelody_tests::vst3_host::{vst3_bundle, Edit, Vst3Host};
use pixelody_tests::*;

#[test]
fn the_hosts_program_list_names_every_factory_preset_and_a_switch_loads_it_as_the_menu_does() {
    let factory = presets::factory();
    let host = Vst3Host::load(&vst3_bundle());

    // One program change parameter, a list of the presets, on the unit that holds the list: what
    // hosts look for to fill their drop-down.
    let params = host.params();
    let programs: Vec<_> = params.iter().filter(|p| p.is_program_change()).collect();
    assert_eq!(programs.len(), 1, "{params:#?}");
    let program = programs[0].clone();
    assert_eq!(program.title, "Program");
    assert_eq!(program.step_count as usize, factory.len() - 1);
    assert!(host.refuses_param_index(params.len() as i32));
    let lists = host.program_lists();
    assert_eq!(lists.len(), 1);
    let list = &lists[0];
    let names: Vec<&str> = factory.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(list.programs, names);
    let units = host.units();
    let unit = units
        .iter()
        .find(|u| u.id == program.unit)
        .expect("the program change parameter's unit is listed");
    assert_eq!(unit.program_list, list.id);
    // The parameter's values are the programs' names too (hosts without program lists show them).
    let last = (factory.len() - 1) as f64;
    for (i, name) in names.iter().enumerate() {
        assert_eq!(
            host.param_text(program.id, i as f64 / last).as_deref(),
            Some(*name)
        );
    }
    // Every other parameter is where it was: the plug-in's own, in their units.
    assert!(params
        .iter()
        .filter(|p| !p.is_program_change())
        .all(|p| units.iter().any(|u| u.id == p.unit) || p.unit == 0));
    drop(host);

    // Each program, chosen in the host's drop-down of a fresh instance (before audio runs): every
    // parameter the menu sets is set, the host is told of each change as one gesture, and the
    // drop-down then shows that program.
    for (i, preset) in factory.iter().enumerate() {
        let host = Vst3Host::load(&vst3_bundle());
        let _ = host.take_edits();
        let value = i as f64 / last;
        assert_eq!(host.set_param(program.id, value), 0, "{}", preset.name);
        let targets = menu_targets(preset);
        assert!(!targets.is_empty(), "{}", preset.name);
        for (id, name, normalized, _) in &targets {
            let got = host.param(*id);
            assert!(
                (got - f64::from(*normalized)).abs() < 1e-6,
                "{}: {name} is {got}, the menu sets {normalized}",
                preset.name
            );
        }
        let edits = host.take_edits();
        let n = targets.len();
        assert_eq!(edits.len(), 3 * n, "{}: {edits:?}", preset.name);
        for (k, (id, name, normalized, _)) in targets.iter().enumerate() {
            assert_eq!(edits[k], Edit::Begin(*id), "{}: {name}", preset.name);
            match edits[n + k] {
                Edit::Perform(got_id, got) => {
                    assert_eq!(got_id, *id);
                    assert!((got - f64::from(*normalized)).abs() < 1e-6, "{name}");
                }
                ref other => panic!("{}: {other:?} where {name} was set", preset.name),
            }
            assert_eq!(edits[2 * n + k], Edit::End(*id));
        }
        assert!(
            (host.param(program.id) - value).abs() < 1e-9,
            "{}: the drop-down shows {}",
            preset.name,
            host.param(program.id)
        );
    }

    // A value that is no number is refused and changes nothing.
    let host = Vst3Host::load(&vst3_bundle());
    let before: Vec<f64> = params.iter().map(|p| host.param(p.id)).collect();
    assert_ne!(host.set_param(program.id, f64::NAN), 0);
    let after: Vec<f64> = params.iter().map(|p| host.param(p.id)).collect();
    assert_eq!(before, after);
    assert!(host.take_edits().is_empty());
    drop(host);
    assert_no_plugin_panics();
}

#[test]
fn the_hosts_drum_editor_names_every_key_the_kit_plays() {
    let host = Vst3Host::load(&vst3_bundle());
    let list = host.program_lists()[0].clone();
    for program in 0..list.programs.len() as i32 {
        for key in drum::ALL {
            assert_eq!(
                host.pitch_name(list.id, program, key as i16).as_deref(),
                drum::name(key),
                "key {key}"
            );
        }
        // Keys the kit does not play are not named.
        assert_eq!(host.pitch_name(list.id, program, 60), None);
    }
    assert_eq!(host.pitch_name(list.id, 99, 36), None);
    assert_eq!(host.pitch_name(list.id + 1, 0, 36), None);
    assert!(drum::ALL
        .iter()
        .any(|&key| host.pitch_name(list.id, 0, key as i16).as_deref() == Some("Closed Hat")));
    drop(host);
    assert_no_plugin_panics();
}
