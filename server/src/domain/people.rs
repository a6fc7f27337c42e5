//! People's names and countries as the node accepts them: a display name is one line of at
//! most [`MAX_NAME_CHARS`] characters after the text rules; a country is an ISO 3166-1
//! alpha-2 code. Tokens, guest sign-in and the programme use these rules.

use crate::domain::text::{has_control, normalise_line};

/// The longest display name a token may carry, in characters.
pub const MAX_NAME_CHARS: usize = plenary_proto::input::NAME_MAX_CHARS;

/// Normalises a display name (the text rules, [`normalise_line`]) and checks it is 1 to
/// [`MAX_NAME_CHARS`] characters. Line breaks and tabs fold into spaces; other control
/// characters are refused.
pub fn validate_display_name(name: &str) -> Result<String, String> {
    if has_control(name) {
        return Err("the name contains control characters".into());
    }
    let name = normalise_line(name);
    if name.is_empty() {
        return Err("the name is empty".into());
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!("the name is longer than {MAX_NAME_CHARS} characters"));
    }
    Ok(name)
}

/// Checks an ISO 3166-1 alpha-2 code's shape and returns it upper-cased.
pub fn validate_country(code: &str) -> Result<String, String> {
    let code = code.trim();
    if code.len() == 2 && code.chars().all(|c| c.is_ascii_alphabetic()) {
        Ok(code.to_ascii_uppercase())
    } else {
        Err(format!("country {code:?} is not a two-letter ISO 3166-1 code"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_countries_are_validated() {
        assert!(validate_display_name("   ").is_err());
        assert!(validate_display_name(&"x".repeat(65)).is_err());
        assert_eq!(validate_display_name("a\nb").unwrap(), "a b", "separators fold");
        assert_eq!(validate_display_name(" \u{202E}Ada\u{200B} ").unwrap(), "Ada");
        assert!(validate_display_name("\u{200B}\u{2066}").is_err(), "empty once normalised");
        assert!(validate_display_name("a\u{0}b").is_err());
        assert!(validate_display_name(&"x\u{200B}".repeat(64)).is_ok(), "counted after normalisation");
        assert_eq!(validate_country("de").unwrap(), "DE");
        assert!(validate_country("DEU").is_err());
    }
}
