//! Domain input validation: values are checked and normalized once, when they enter the system.

use crate::error::{Error, Result};

/// Lower-cases and trims an email, then checks its shape (one `@`, a dotted domain, no spaces).
pub fn email(input: &str) -> Result<String> {
    let email = normalize_email(input);
    let invalid = || Error::validation("email", "must be a valid email address");
    if email.is_empty() || email.len() > 254 || email.chars().any(char::is_whitespace) {
        return Err(invalid());
    }
    let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
    let domain_ok = !domain.contains('@')
        && domain.contains('.')
        && domain.split('.').all(|label| !label.is_empty());
    if local.is_empty() || local.len() > 64 || !domain_ok {
        return Err(invalid());
    }
    Ok(email)
}

/// The canonical form used for storage and lookups, without judging validity.
pub fn normalize_email(input: &str) -> String {
    input.trim().to_lowercase()
}

/// The 5000 most common passwords of 8+ characters (from zxcvbn's list; see the file's header).
const COMMON_PASSWORDS: &str = include_str!("../data/common-passwords.txt");

/// Whether `input` is on the common-password list, ignoring case.
pub fn is_common_password(input: &str) -> bool {
    static LIST: std::sync::OnceLock<std::collections::HashSet<&'static str>> =
        std::sync::OnceLock::new();
    let list = LIST.get_or_init(|| {
        COMMON_PASSWORDS
            .lines()
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .collect()
    });
    list.contains(input.to_lowercase().as_str())
}

/// 8..=128 characters and not a common password; not trimmed, every character counts.
pub fn password(input: &str) -> Result<&str> {
    let len = input.chars().count();
    if !(8..=128).contains(&len) {
        return Err(Error::validation(
            "password",
            "must be between 8 and 128 characters",
        ));
    }
    if is_common_password(input) {
        return Err(Error::validation(
            "password",
            "is one of the most common passwords; choose another",
        ));
    }
    Ok(input)
}

/// Display name: 1..=100 characters after trimming.
pub fn name(input: &str) -> Result<String> {
    trimmed("name", input, 100)
}

/// Meeting title: 1..=200 characters after trimming.
pub fn title(input: &str) -> Result<String> {
    trimmed("title", input, 200)
}

fn trimmed(field: &str, input: &str, max: usize) -> Result<String> {
    let value = input.trim();
    let len = value.chars().count();
    if len == 0 || len > max {
        return Err(Error::validation(
            field,
            &format!("must be between 1 and {max} characters after trimming"),
        ));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_validation(result: Result<impl std::fmt::Debug>) -> bool {
        matches!(result, Err(Error::Validation(_)))
    }

    #[test]
    fn email_is_normalized() {
        assert_eq!(email("  Alice@Example.COM ").unwrap(), "alice@example.com");
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "alice",
            "@example.com",
            "alice@",
            "alice@example",
            "alice@@example.com",
            "al ice@example.com",
            "alice@example..com",
            "alice@.com",
        ] {
            assert!(is_validation(email(bad)), "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(is_validation(email(&long)));
    }

    #[test]
    fn password_length_bounds() {
        assert!(is_validation(password("1234567")));
        assert!(password("8 chars!").is_ok());
        assert!(password(&"x".repeat(128)).is_ok());
        assert!(is_validation(password(&"x".repeat(129))));
        // characters, not bytes
        assert!(password("éééééééé").is_ok());
    }

    #[test]
    fn common_passwords_are_refused() {
        for common in [
            "password", "PassWord", "12345678", "baseball", "1qaz2wsx", "iloveyou",
        ] {
            assert!(is_validation(password(common)), "{common:?}");
        }
        assert!(password("correct horse battery").is_ok());
        let listed = COMMON_PASSWORDS
            .lines()
            .filter(|l| !l.starts_with('#'))
            .count();
        assert_eq!(listed, 5000);
    }

    #[test]
    fn name_and_title_are_trimmed_and_bounded() {
        assert_eq!(name("  Bob ").unwrap(), "Bob");
        assert!(is_validation(name("   ")));
        assert!(name(&"n".repeat(100)).is_ok());
        assert!(is_validation(name(&"n".repeat(101))));
        assert!(title(&"t".repeat(200)).is_ok());
        assert!(is_validation(title(&"t".repeat(201))));
        assert!(is_validation(title("")));
    }
}
