//! Display names: what a member may be called. Other members read these,
//! so a name must show something, and can't reorder the text around it.

use unicode_width::UnicodeWidthChar;

/// The most characters a display name may have.
pub const MAX_CHARS: usize = 64;

/// Why a display name was refused; the message names the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameProblem {
    Length,
    Control,
    Surrounding,
    Bidi(char),
    Invisible,
}

impl std::fmt::Display for NameProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NameProblem::Length => write!(
                f,
                "add ?name=NAME: a display name of 1-{MAX_CHARS} characters, no control characters or surrounding spaces"
            ),
            NameProblem::Control => f.write_str("the display name has a control character"),
            NameProblem::Surrounding => {
                f.write_str("the display name starts or ends with a space")
            }
            NameProblem::Bidi(c) => write!(
                f,
                "the display name has a bidirectional control character (U+{:04X}), which would reorder the text around it",
                *c as u32
            ),
            NameProblem::Invisible => f.write_str(
                "the display name has no visible character (only spaces, invisible or combining characters)",
            ),
        }
    }
}

/// Characters that change the direction of the text around them: the
/// embeddings and overrides (U+202A-U+202E), the isolates (U+2066-U+2069)
/// and the marks (U+200E, U+200F, U+061C).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Whether `c` shows anything: not white space, not zero-width (format
/// characters such as U+200B, U+2060, U+FEFF, combining marks, fillers
/// such as U+3164), and not one of the blanks that have a width.
fn is_visible(c: char) -> bool {
    // HANGUL CHOSEONG FILLER and BRAILLE PATTERN BLANK take up room but draw nothing.
    !c.is_whitespace() && c.width().unwrap_or(0) > 0 && !matches!(c, '\u{115F}' | '\u{2800}')
}

/// Checks a display name against every rule, in order.
pub fn check_display_name(name: &str) -> Result<(), NameProblem> {
    let chars = name.chars().count();
    if !(1..=MAX_CHARS).contains(&chars) {
        return Err(NameProblem::Length);
    }
    if name.chars().any(char::is_control) {
        return Err(NameProblem::Control);
    }
    if name.trim() != name {
        return Err(NameProblem::Surrounding);
    }
    if let Some(c) = name.chars().find(|c| is_bidi_control(*c)) {
        return Err(NameProblem::Bidi(c));
    }
    if !name.chars().any(is_visible) {
        return Err(NameProblem::Invisible);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_names_pass() {
        for name in [
            "ada",
            "Grace Hopper",
            "名前",
            "Zoë",
            "😀",
            "a\u{0301}",
            "x y",
        ] {
            assert_eq!(check_display_name(name), Ok(()), "{name:?}");
        }
    }

    #[test]
    fn each_rule_refuses_with_its_reason() {
        let cases = [
            ("", NameProblem::Length),
            (&"a".repeat(65), NameProblem::Length),
            ("a\nb", NameProblem::Control),
            (" ada", NameProblem::Surrounding),
            ("ada\u{202E}nimda", NameProblem::Bidi('\u{202E}')),
            ("\u{2066}ada\u{2069}", NameProblem::Bidi('\u{2066}')),
            ("ada\u{200F}", NameProblem::Bidi('\u{200F}')),
            ("a\u{061C}b", NameProblem::Bidi('\u{061C}')),
            ("\u{200B}", NameProblem::Invisible),
            ("\u{2060}\u{FEFF}", NameProblem::Invisible),
            ("\u{3164}", NameProblem::Invisible),
            ("\u{3164}\u{3164}", NameProblem::Invisible),
            ("\u{115F}", NameProblem::Invisible),
            ("\u{2800}", NameProblem::Invisible),
            ("\u{0301}\u{0302}", NameProblem::Invisible),
            ("\u{200B} \u{200B}", NameProblem::Invisible),
            ("\u{00A0}\u{3000}x", NameProblem::Surrounding),
            ("\u{FE0F}", NameProblem::Invisible),
        ];
        for (name, problem) in cases {
            assert_eq!(check_display_name(name), Err(problem), "{name:?}");
        }
        assert!(NameProblem::Bidi('\u{202E}').to_string().contains("U+202E"));
    }
}
