//! The README's examples are the test guests the browser tests build and
//! play: the first Rust block is `tests/guests/readme-client`, the one under
//! "A complete game" is `tests/guests/readme-game`, and its manifest asks for
//! what the guest's does.

const README: &str = include_str!("../README.md");

/// The first fenced block of `lang` after `heading`.
fn block<'a>(heading: &str, lang: &str) -> &'a str {
    let from = README.find(heading).expect("the heading is in the README");
    let fence = format!("```{lang}\n");
    let start = from + README[from..].find(&fence).expect("a block follows") + fence.len();
    let end = start + README[start..].find("```").expect("the block ends");
    &README[start..end]
}

#[test]
fn the_readme_client_is_the_test_guest() {
    let guest = include_str!("../../../tests/guests/readme-client/src/lib.rs");
    assert_eq!(block("## A complete client", "rust"), guest);
}

#[test]
fn the_readme_game_is_the_test_guest() {
    let guest = include_str!("../../../tests/guests/readme-game/src/lib.rs");
    assert_eq!(block("## A complete game", "rust"), guest);
    let manifest = include_str!("../../../tests/guests/readme-game/lodge.toml");
    let capabilities = |toml: &str| {
        toml.lines()
            .find(|l| l.starts_with("capabilities"))
            .map(str::to_owned)
    };
    let readme_manifest = block("## A complete game", "toml");
    assert_eq!(capabilities(readme_manifest), capabilities(manifest));
    assert!(capabilities(manifest).is_some_and(|c| c.contains("\"screen\"")));
}
