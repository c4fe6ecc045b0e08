//! `check_gate` (no exposure bookkeeping) must give exactly the value of the
//! full `evaluate`, which the fixture suite proves equal to the reference.

use gatehouse_conformance::fixtures::{country_table, read_data_file};
use gatehouse_conformance::users::generate_users_for_specs;
use gatehouse_core::country::CountryTable;
use gatehouse_core::{check_gate, evaluate, parse_specs, EvalEnv, Kind, User};

#[test]
fn check_gate_equals_evaluate_on_fixtures() {
    let table = country_table().expect("country table");
    let table = CountryTable::parse(&table).expect("table parses");
    let mut checked = 0;
    for file in [
        "eval_proj_dcs.json",
        "demo_proj_dcs.json",
        "perf_proj_dcs.json",
    ] {
        let specs = read_data_file(file).expect("fixture");
        let snapshot = parse_specs(&specs).expect("specs parse");
        let env = EvalEnv {
            country: Some(&table),
            now_ms: 1_764_000_000_000,
            ..EvalEnv::default()
        };
        for user_json in generate_users_for_specs(&specs, 11, 200) {
            let user = User::from_json(&user_json).expect("user parses");
            for name in snapshot.names(Kind::Gate) {
                let full = evaluate(&snapshot, &user, Kind::Gate, name, &env);
                assert_eq!(
                    check_gate(&snapshot, &user, name, &env),
                    full.bool_value,
                    "{file} {name}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 10_000, "{checked}");
}
