//! Golden tests: each `tests/golden/*.toml` beside the exact error it must produce.
//!
//! Run with `LODGE_BLESS=1` to rewrite the `.err` files after an intended change.

use lodge_manifest::Manifest;
use std::path::Path;

#[test]
fn every_bad_manifest_produces_its_exact_error() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let bless = std::env::var_os("LODGE_BLESS").is_some();
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for toml_path in entries
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
    {
        let text = std::fs::read_to_string(&toml_path).unwrap();
        let err_path = toml_path.with_extension("err");
        let actual = match Manifest::parse(&text) {
            Ok(_) => "(accepted)".to_owned(),
            Err(e) => e.to_string(),
        };
        if bless {
            std::fs::write(&err_path, format!("{actual}\n")).unwrap();
        }
        let expected = std::fs::read_to_string(&err_path)
            .unwrap_or_else(|_| panic!("{} has no .err file beside it", toml_path.display()));
        if expected.trim_end() != actual {
            failures.push(format!(
                "{}\n  expected: {}\n  actual:   {}",
                toml_path.display(),
                expected.trim_end(),
                actual
            ));
        }
        checked += 1;
    }
    assert!(
        checked >= 20,
        "only {checked} golden cases found in {}",
        dir.display()
    );
    assert!(
        failures.is_empty(),
        "golden mismatches:\n{}",
        failures.join("\n")
    );
}

#[test]
fn a_complete_manifest_parses_with_every_field() {
    let m = Manifest::parse(include_str!("../../../docs/examples/lodge.toml")).unwrap();
    assert_eq!(m.app.name.as_str(), "tic-tac-toe");
    assert_eq!(m.app.version, semver::Version::new(1, 2, 0));
    let room = m.room.as_ref().unwrap();
    assert_eq!(room.max_members, Some(2));
    assert_eq!(room.capabilities.len(), 2);
    assert_eq!(room.visibility, lodge_manifest::RoomVisibility::Public);
    assert!(room.unique_names);
    assert!(room.require_account);
    assert_eq!(m.http.as_ref().unwrap().allowed_hosts, ["api.example.com"]);
    assert_eq!(m.parts().len(), 3);
    // Rendering back to TOML and parsing again gives the same manifest.
    assert_eq!(Manifest::parse(&m.to_toml()).unwrap(), m);
}

#[test]
fn a_part_may_stand_alone() {
    for text in [
        "[app]\nname='a'\nversion='0.1.0'\ndescription=''\n[client]\ncomponent='c.wasm'\n",
        "[app]\nname='a'\nversion='0.1.0'\ndescription=''\n[http]\ncomponent='h.wasm'\n",
        "[app]\nname='a'\nversion='0.1.0-beta.1'\ndescription=''\n[room]\ncomponent='r.wasm'\n",
    ] {
        Manifest::parse(text).unwrap();
    }
}

#[test]
fn names_are_checked_at_both_ends_of_the_range() {
    assert!(lodge_manifest::AppName::new("a".repeat(64)).is_ok());
    assert!(lodge_manifest::AppName::new("a".repeat(65)).is_err());
    assert!(lodge_manifest::AppName::new("9lives").is_ok());
    assert!(lodge_manifest::AppName::new("").is_err());
}

#[test]
fn rooms_are_unlisted_with_any_names_unless_the_manifest_says_otherwise() {
    let text = "[app]\nname='a'\nversion='0.1.0'\ndescription=''\n[room]\ncomponent='r.wasm'\n";
    let m = Manifest::parse(text).unwrap();
    let room = m.room.as_ref().unwrap();
    assert_eq!(room.visibility, lodge_manifest::RoomVisibility::Unlisted);
    assert!(!room.unique_names);
    assert!(!room.require_account);
    // Defaults are left out when serialized, so the content digest of a
    // manifest that doesn't use them is what it was before they existed.
    let json = serde_json::to_string(&m).unwrap();
    assert!(
        !json.contains("visibility") && !json.contains("unique") && !json.contains("require"),
        "{json}"
    );
    assert!(!m.to_toml().contains("visibility"));
}

#[test]
fn an_app_may_require_signed_in_members() {
    let text = "[app]\nname='a'\nversion='0.1.0'\ndescription=''\n[room]\ncomponent='r.wasm'\nrequire-account = true\n";
    let m = Manifest::parse(text).unwrap();
    assert!(m.room.as_ref().unwrap().require_account);
    let toml = m.to_toml();
    assert!(toml.contains("require-account = true"), "{toml}");
    assert_eq!(Manifest::parse(&toml).unwrap(), m);
    let json = serde_json::to_value(&m).unwrap();
    assert_eq!(json["room"]["require-account"], true);
    // Saying the default is the same manifest as not saying it.
    let explicit = Manifest::parse(&text.replace("true", "false")).unwrap();
    assert!(!explicit.room.as_ref().unwrap().require_account);
    assert!(!explicit.to_toml().contains("require-account"));
}
