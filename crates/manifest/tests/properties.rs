//! Property tests: random and mutated input never panics the parser, every
//! refusal names the file or the field, and what parses renders back to
//! the same manifest.

use lodge_manifest::Manifest;
use proptest::prelude::*;
use std::path::Path;

/// The golden manifests and the complete example: valid and broken ones to mutate.
fn seeds() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut seeds =
        vec![std::fs::read_to_string(root.join("../../docs/examples/lodge.toml")).unwrap()];
    let mut golden: Vec<_> = std::fs::read_dir(root.join("tests/golden"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    golden.sort();
    seeds.extend(golden.iter().map(|p| std::fs::read_to_string(p).unwrap()));
    seeds
}

/// One edit to a manifest's text.
#[derive(Debug, Clone)]
enum Edit {
    Delete { at: usize, len: usize },
    Insert { at: usize, text: String },
    Replace { at: usize, byte: u8 },
    DuplicateLine { line: usize },
    Truncate { at: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    // Pieces of TOML and of manifests, so inserts make near-misses.
    let piece = prop_oneof![
        Just("[room]\n".to_owned()),
        Just("[http]\n".to_owned()),
        Just("[[app]]\n".to_owned()),
        Just("=".to_owned()),
        Just("\"".to_owned()),
        Just("'''".to_owned()),
        Just("\n".to_owned()),
        Just("capabilities = [\"kv\", \"kv\"]\n".to_owned()),
        Just("memory-mib = -1\n".to_owned()),
        Just("max-members = 99999999999999999999\n".to_owned()),
        Just("version = \"1.0.0+build\"\n".to_owned()),
        Just("name = \"\u{202e}x\"\n".to_owned()),
        Just("component = \"../../etc/passwd\"\n".to_owned()),
        Just("allowed-hosts = [\"*.*\", \"a:0\"]\n".to_owned()),
        "[ -~]{0,12}",
        any::<String>().prop_map(|s| s.chars().take(8).collect()),
    ];
    prop_oneof![
        (any::<usize>(), 1..16usize).prop_map(|(at, len)| Edit::Delete { at, len }),
        (any::<usize>(), piece).prop_map(|(at, text)| Edit::Insert { at, text }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Edit::Replace { at, byte }),
        any::<usize>().prop_map(|line| Edit::DuplicateLine { line }),
        any::<usize>().prop_map(|at| Edit::Truncate { at }),
    ]
}

fn apply(text: &mut Vec<u8>, edit: &Edit) {
    let pos = |at: usize, len: usize| if len == 0 { 0 } else { at % (len + 1) };
    match edit {
        Edit::Delete { at, len } => {
            let start = pos(*at, text.len());
            let end = (start + len).min(text.len());
            text.drain(start..end);
        }
        Edit::Insert { at, text: piece } => {
            let at = pos(*at, text.len());
            text.splice(at..at, piece.bytes());
        }
        Edit::Replace { at, byte } => {
            if !text.is_empty() {
                let at = at % text.len();
                text[at] = *byte;
            }
        }
        Edit::DuplicateLine { line } => {
            let lines: Vec<&[u8]> = text.split_inclusive(|b| *b == b'\n').collect();
            if !lines.is_empty() {
                let line = lines[line % lines.len()].to_vec();
                text.extend(line);
            }
        }
        Edit::Truncate { at } => {
            let at = pos(*at, text.len());
            text.truncate(at);
        }
    }
}

/// Parses, and checks what every answer must be.
fn check(bytes: &[u8]) -> Result<(), TestCaseError> {
    match Manifest::parse_bytes(bytes) {
        Ok(manifest) => {
            // A manifest that parses renders to TOML that parses to itself.
            let again = Manifest::parse(&manifest.to_toml());
            prop_assert_eq!(again.as_ref().ok(), Some(&manifest), "{:?}", again);
        }
        Err(e) => {
            let message = e.to_string();
            // Every refusal names the file or the field it is about.
            prop_assert!(
                message.starts_with("lodge.toml") || message.starts_with('['),
                "{message}"
            );
            prop_assert!(message.len() > 12, "{message}");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_manifests_are_parsed_or_refused_by_name(
        seed in any::<prop::sample::Index>(),
        edits in prop::collection::vec(edit(), 1..6),
    ) {
        let seeds = seeds();
        let mut text = seed.get(&seeds).clone().into_bytes();
        for edit in &edits {
            apply(&mut text, edit);
        }
        check(&text)?;
    }

    #[test]
    fn toml_like_text_is_parsed_or_refused_by_name(
        text in "(\\[(app|room|client|http)\\]\n|[a-z-]{1,12} = (\"[ -~]{0,10}\"|[0-9-]{1,6}|\\[\"[a-z]{0,5}\"\\]|true)\n|[ -~\n]{0,20}){0,12}",
    ) {
        check(text.as_bytes())?;
    }

    #[test]
    fn random_bytes_are_refused_by_name(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        check(&bytes)?;
    }
}
