//! Text rules: the one normalisation every human-visible field goes through (display and
//! guest names, chat, questions, stage titles and speakers, polls, callback messages,
//! contact cards) before its length is checked.
//!
//! What is removed, what is kept and why (PROTOCOL.md, "Text rules", says the same):
//!
//! - Bidirectional embedding, override and isolate controls (U+202A–U+202E, U+2066–U+2069)
//!   and the direction marks U+200E, U+200F and U+061C are removed. They let a name or a
//!   message display differently from what it is (U+202E then "gpj.exe" shows as "exe.jpg"); the web
//!   client isolates every piece of user text (`dir="auto"`) itself, so no text needs them.
//! - Invisible characters that serve only to spoof are removed: the default-ignorable code
//!   points of Unicode (zero width space U+200B, word joiner and invisible operators
//!   U+2060–U+206F, U+FEFF, soft hyphen U+00AD, U+034F, U+180E, the Hangul fillers, U+17B4
//!   and U+17B5, U+1BCA0–U+1BCA3, U+1D173–U+1D17A, the interlinear annotation characters
//!   U+FFF9–U+FFFB) and other control characters. This follows the PRECIS classes
//!   (RFC 8264, used by the nickname profile of RFC 8266), which disallow them.
//! - The joiners stay only where a script or an emoji needs them, after the contextual rules
//!   of RFC 5892 Appendix A.1 and A.2: ZWNJ (U+200C) and ZWJ (U+200D) after a virama (Hindi
//!   "क्‍ष"); ZWNJ between Arabic-script letters that would otherwise join (Persian
//!   "می‌خواهم"); and ZWJ between two emoji (emoji ZWJ sequences such as 👩‍💻 and 🏳️‍🌈),
//!   which RFC 5892 predates. Anywhere else a joiner is invisible and is removed.
//! - Variation selectors (U+FE00–U+FE0F, U+E0100–U+E01EF) and the Mongolian free variation
//!   selectors stay: they choose a glyph (emoji or text presentation) and do not hide text.
//!   Tag characters (U+E0020–U+E007F) stay only in an emoji tag sequence, a black flag
//!   followed by tags and the cancel tag (the flags of England, Scotland and Wales).
//! - Whitespace: [`normalise_line`] (names, titles, speakers, card fields, poll texts) folds
//!   every kind of whitespace, line and paragraph separators included, to one space,
//!   collapses runs and trims, as the nickname profile does. [`normalise_text`] (chat,
//!   questions, callback messages) turns CRLF, CR, NEL, U+2028, U+2029, VT and FF into
//!   `\n`, keeps tabs, makes every other space U+0020 and trims the ends.
//! - The result is in Unicode Normalization Form C, so "e" and a combining acute accent
//!   become "é" and the same name is the same string.
//!
//! Both functions are idempotent, and callers count characters after them.

use unicode_joining_type::{JoiningType, get_joining_type};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::canonical_combining_class;
use unicode_properties::UnicodeEmoji;

const ZWNJ: char = '\u{200C}';
const ZWJ: char = '\u{200D}';
/// The canonical combining class of viramas (RFC 5892 A.1, A.2).
const VIRAMA: u8 = 9;
/// WAVING BLACK FLAG, the base of the emoji tag sequences.
const BLACK_FLAG: char = '\u{1F3F4}';
const CANCEL_TAG: char = '\u{E007F}';

/// Normalises a single-line field (a name, a title, a speaker, a card field, a poll text).
pub fn normalise_line(s: &str) -> String {
    let text = normalise(s, false);
    let mut out = String::with_capacity(text.len());
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Normalises a multi-line text (a chat message, a question, a callback message).
pub fn normalise_text(s: &str) -> String {
    normalise(s, true).trim().to_owned()
}

/// Everything but the final whitespace handling: removals, line endings, NFC and joiners.
fn normalise(s: &str, multiline: bool) -> String {
    let mut chars: Vec<char> = Vec::with_capacity(s.len());
    let mut input = s.chars().peekable();
    while let Some(c) = input.next() {
        if c == '\r' {
            // CRLF is one line break, as is a lone CR.
            if input.peek() == Some(&'\n') {
                input.next();
            }
            chars.push(if multiline { '\n' } else { ' ' });
        } else if is_line_break(c) {
            chars.push(if multiline { '\n' } else { ' ' });
        } else if c == '\t' && multiline {
            chars.push('\t');
        } else if c.is_whitespace() {
            chars.push(' ');
        } else if !is_removed(c) {
            chars.push(c);
        }
    }
    let mut chars = keep_tag_sequences(chars);
    // Removing a joiner can bring together characters that compose (and composing can
    // change a joiner's neighbours), so repeat until nothing more is removed: at most once
    // per joiner, and the result is then a fixed point, which makes the whole idempotent.
    loop {
        chars = chars.into_iter().nfc().collect();
        let before = chars.len();
        chars = drop_stray_joiners(chars);
        if chars.len() == before {
            break;
        }
    }
    chars.into_iter().collect()
}

/// Whether `s` has a control character that is not whitespace (NUL, BEL, ESC...). The
/// fields that refused control characters before these rules still refuse those, rather
/// than lose part of what was typed without a word; whitespace controls are folded.
pub fn has_control(s: &str) -> bool {
    s.chars().any(|c| c.is_control() && !c.is_whitespace())
}

fn is_line_break(c: char) -> bool {
    matches!(c, '\n' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// Characters removed wherever they appear (the joiners and tags are decided in context).
fn is_removed(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            // Direction marks and bidi embedding, override and isolate controls.
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
            // Default-ignorable and invisible characters.
            | '\u{00AD}' | '\u{034F}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}' | '\u{180E}'
            | '\u{200B}' | '\u{2060}'..='\u{2065}' | '\u{206A}'..='\u{206F}' | '\u{3164}' | '\u{FEFF}'
            | '\u{FFA0}' | '\u{FFF0}'..='\u{FFFB}' | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}'
            // Unassigned default-ignorables around the tags and variation selectors.
            | '\u{E0000}'..='\u{E001F}' | '\u{E0080}'..='\u{E00FF}' | '\u{E01F0}'..='\u{E0FFF}'
        )
}

fn is_tag(c: char) -> bool {
    ('\u{E0020}'..=CANCEL_TAG).contains(&c)
}

/// Keeps tag characters only in emoji tag sequences: a black flag, one or more tags from
/// U+E0020 to U+E007E, and the cancel tag.
fn keep_tag_sequences(chars: Vec<char>) -> Vec<char> {
    if !chars.iter().copied().any(is_tag) {
        return chars;
    }
    let mut out = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == BLACK_FLAG {
            let tags = chars[i + 1..].iter().take_while(|t| is_tag(**t) && **t != CANCEL_TAG).count();
            if tags > 0 && chars.get(i + 1 + tags) == Some(&CANCEL_TAG) {
                out.extend_from_slice(&chars[i..i + tags + 2]);
                i += tags + 2;
                continue;
            }
        }
        if !is_tag(c) {
            out.push(c);
        }
        i += 1;
    }
    out
}

/// Removes every joiner that no contextual rule allows, deciding all of them on the same
/// input (so the outcome does not depend on the order they are looked at).
fn drop_stray_joiners(chars: Vec<char>) -> Vec<char> {
    if !chars.iter().any(|c| matches!(*c, ZWNJ | ZWJ)) {
        return chars;
    }
    let keep: Vec<bool> = (0..chars.len())
        .map(|i| match chars[i] {
            ZWNJ => after_virama(&chars, i) || within_arabic_joining(&chars, i),
            ZWJ => after_virama(&chars, i) || between_emoji(&chars, i),
            _ => true,
        })
        .collect();
    chars.into_iter().zip(keep).filter_map(|(c, keep)| keep.then_some(c)).collect()
}

/// RFC 5892 A.1 and A.2: the character before is a virama.
fn after_virama(chars: &[char], i: usize) -> bool {
    i > 0 && canonical_combining_class(chars[i - 1]) == VIRAMA
}

/// RFC 5892 A.1: `(Joining_Type:{L,D})(Joining_Type:T)*\u200C(Joining_Type:T)*(Joining_Type:{R,D})`.
fn within_arabic_joining(chars: &[char], i: usize) -> bool {
    let before = chars[..i].iter().rev().map(|c| get_joining_type(*c)).find(|t| *t != JoiningType::Transparent);
    let after = chars[i + 1..].iter().map(|c| get_joining_type(*c)).find(|t| *t != JoiningType::Transparent);
    matches!(before, Some(JoiningType::LeftJoining | JoiningType::DualJoining))
        && matches!(after, Some(JoiningType::RightJoining | JoiningType::DualJoining))
}

/// An emoji ZWJ sequence: an emoji (with its presentation selector or skin tone) before,
/// an emoji after.
fn between_emoji(chars: &[char], i: usize) -> bool {
    let before = chars[..i].iter().rev().copied().find(|c| !is_emoji_modifier_or_selector(*c));
    before.is_some_and(is_pictographic) && chars.get(i + 1).copied().is_some_and(is_pictographic)
}

/// An emoji, leaving out the ASCII digits, `#` and `*` (emoji only as keycap bases) and
/// the regional indicators (flags are pairs, never joined).
fn is_pictographic(c: char) -> bool {
    !c.is_ascii() && c.is_emoji_char() && !('\u{1F1E6}'..='\u{1F1FF}').contains(&c)
}

fn is_emoji_modifier_or_selector(c: char) -> bool {
    matches!(c, '\u{FE0E}' | '\u{FE0F}' | '\u{1F3FB}'..='\u{1F3FF}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn scripts_and_emoji_come_through_intact() {
        for name in [
            "نور الهدى",
            "می\u{200C}خواهم",
            "क्\u{200D}ष",
            "क्\u{200C}ष",
            "अनुष्का शर्मा",
            "👩\u{200D}💻",
            "👨\u{200D}👩\u{200D}👧",
            "🏳\u{FE0F}\u{200D}🌈",
            "🧑🏽\u{200D}🚀",
            "🇰🇪",
            "\u{1F3F4}\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}",
            "Zoë Ødegård",
            "李小龍",
        ] {
            assert_eq!(normalise_line(name), name, "{name:?}");
            assert_eq!(normalise_text(name), name, "{name:?}");
        }
    }

    #[test]
    fn bidi_controls_are_removed() {
        assert_eq!(normalise_line("Ada\u{202E}gpj.exe"), "Adagpj.exe");
        assert_eq!(normalise_line("\u{2066}a\u{2067}b\u{2068}c\u{2069}"), "abc");
        assert_eq!(normalise_line("\u{202A}x\u{202B}y\u{202C}z\u{202D}"), "xyz");
        assert_eq!(normalise_text("a\u{200E}b\u{200F}c\u{061C}"), "abc");
    }

    #[test]
    fn invisible_characters_are_removed() {
        assert_eq!(normalise_line("A\u{200B}d\u{2060}a\u{FEFF}"), "Ada");
        assert_eq!(normalise_line("soft\u{00AD}hyphen\u{180E}"), "softhyphen");
        assert_eq!(normalise_line("\u{3164}"), "", "a Hangul filler alone is an empty name");
        assert_eq!(normalise_line("Ad\u{200D}a"), "Ada", "a joiner between Latin letters");
        assert_eq!(normalise_line("A\u{200C}da"), "Ada");
        assert_eq!(normalise_line("\u{200D}👩"), "👩", "a joiner with no emoji before");
        assert_eq!(normalise_line("🇰\u{200D}🇪"), "🇰🇪", "regional indicators are not joined");
        assert_eq!(normalise_line("a\u{E0041}b"), "ab", "a tag outside a tag sequence");
    }

    #[test]
    fn line_separators_fold() {
        assert_eq!(normalise_line(" Ada\u{2028}\u{2029}Lovelace\t\n "), "Ada Lovelace");
        assert_eq!(normalise_line("a \u{00A0}\u{3000} b"), "a b");
        assert_eq!(normalise_line("a \u{200B} b"), "a b", "a removal leaves one space");
        assert_eq!(normalise_text("a\r\nb\rc\u{2028}d\u{2029}e\u{85}f"), "a\nb\nc\nd\ne\nf");
        assert_eq!(normalise_text(" one\ttwo\u{7}\n"), "one\ttwo");
    }

    #[test]
    fn controls_that_are_not_whitespace_are_found() {
        assert!(has_control("a\u{0}b") && has_control("\u{1B}[31m") && has_control("\u{7}"));
        assert!(!has_control("a\r\n\tb\u{85}\u{2028}") && !has_control("\u{202E}"));
    }

    #[test]
    fn output_is_nfc() {
        assert_eq!(normalise_line("e\u{301}"), "é");
        assert_eq!(normalise_line("e\u{200B}\u{301}"), "é", "composes after a removal");
        assert_eq!(normalise_line("\u{212B}"), "\u{C5}", "the Ångström sign is Å");
    }

    fn spoofing() -> impl Strategy<Value = char> {
        // Spoofing characters, joiners and what they join, combining marks, separators.
        let chars = "\u{202A}\u{202E}\u{2066}\u{2069}\u{200B}\u{200C}\u{200D}\u{2060}\u{FEFF}\u{2028}\u{0301}\u{094D}\
                     ea \n\rبد\u{064B}क👩💻\u{FE0F}\u{1F3FD}\u{1F3F4}\u{E0067}\u{E007F}\u{E0041}";
        prop::sample::select(chars.chars().collect::<Vec<_>>())
    }

    proptest! {
        #[test]
        fn normalisation_is_idempotent_and_clean(
            mixed in prop::collection::vec(spoofing(), 0..24),
            any in ".{0,24}",
        ) {
            for s in [mixed.into_iter().collect::<String>(), any] {
                for normalise in [normalise_line, normalise_text] {
                    let once = normalise(&s);
                    prop_assert_eq!(&normalise(&once), &once);
                    let spoof = |c: char| matches!(c,
                        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200B}' | '\u{2060}' | '\u{FEFF}' | '\u{2028}'
                    );
                    prop_assert!(!once.chars().any(spoof), "{:?} from {:?}", once, s);
                    prop_assert_eq!(once.trim(), once.as_str());
                }
            }
        }
    }
}
