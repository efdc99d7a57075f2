//! Meeting join codes: `abc-defg-hij`, ten lowercase letters (26^10, about 47 bits).
//!
//! Letters only, grouped 3-4-3, so a code can be read aloud and typed on a phone, while being
//! unguessable enough that knowing the code is what grants access to a meeting's details.

use rand::Rng;

const GROUPS: [usize; 3] = [3, 4, 3];
/// Length of a code including the two dashes.
pub const CODE_LEN: usize = 12;

/// Draws a fresh code from the thread-local CSPRNG (seeded from the OS).
pub fn generate() -> String {
    let mut rng = rand::rng();
    let mut code = String::with_capacity(CODE_LEN);
    for (i, len) in GROUPS.iter().enumerate() {
        if i > 0 {
            code.push('-');
        }
        for _ in 0..*len {
            code.push(char::from(b'a' + rng.random_range(0..26u8)));
        }
    }
    code
}

/// Normalizes user input (trim, lowercase) and returns it if it has the code's shape.
pub fn parse(input: &str) -> Option<String> {
    let code = input.trim().to_ascii_lowercase();
    let mut groups = code.split('-');
    for len in GROUPS {
        let group = groups.next()?;
        if group.len() != len || !group.bytes().all(|b| b.is_ascii_lowercase()) {
            return None;
        }
    }
    groups.next().is_none().then_some(code)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn generated_codes_have_the_documented_shape() {
        for _ in 0..1000 {
            let code = generate();
            assert_eq!(code.len(), CODE_LEN);
            assert_eq!(parse(&code).as_deref(), Some(code.as_str()), "{code}");
        }
    }

    #[test]
    fn generated_codes_do_not_repeat() {
        let codes: HashSet<String> = (0..10_000).map(|_| generate()).collect();
        assert_eq!(codes.len(), 10_000);
    }

    #[test]
    fn generated_codes_use_the_whole_alphabet() {
        let letters: HashSet<char> = (0..500)
            .flat_map(|_| generate().chars().collect::<Vec<_>>())
            .filter(|c| *c != '-')
            .collect();
        assert_eq!(letters.len(), 26);
    }

    #[test]
    fn parse_normalizes_case_and_whitespace() {
        assert_eq!(parse("  ABC-defg-HIJ ").as_deref(), Some("abc-defg-hij"));
    }

    #[test]
    fn parse_refuses_malformed_codes() {
        for bad in [
            "",
            "abc",
            "abcdefghij",
            "abc-defg-hi",
            "abc-defg-hijk",
            "ab1-defg-hij",
            "abc-defg-hij-",
            "abc--defg-hij",
            "abc_defg_hij",
            "äbc-defg-hij",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
