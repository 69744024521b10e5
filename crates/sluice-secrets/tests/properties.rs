//! Properties over arbitrary input: the engine never panics, and a token placed anywhere is
//! found at the right place and never leaks.

use proptest::prelude::*;
use sluice_secrets::{scan_bytes, Config, Engine};

fn engine() -> Engine {
    let config =
        Config { max_file_size: 1 << 20, extra_rules: Vec::new(), allow_paths: Vec::new(), peer_annotations: true };
    Engine::new(&config).expect("engine")
}

/// Fake, assembled at run time.
fn token() -> String {
    ["xoxb-", "4829105736", "-", "7301946285", "-", "Qw7Zr2LkVb9NfT3XcHm4Jp8Y"].concat()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(content in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let engine = engine();
        let _ = scan_bytes("any.bin", &content, &engine);
    }

    #[test]
    fn keyword_soup_never_panics(parts in proptest::collection::vec(
        prop_oneof![
            Just("password = \"".to_owned()), Just("-----BEGIN RSA PRIVATE KEY-----\n".to_owned()),
            Just("token".to_owned()), Just("eyJ".to_owned()), Just("\n".to_owned()), Just("\"".to_owned()),
            Just("ghp_".to_owned()), Just("postgres://a:".to_owned()), Just("@h".to_owned()),
            "[A-Za-z0-9+/=_-]{0,80}",
        ], 0..60)) {
        let engine = engine();
        let text = parts.concat();
        for f in scan_bytes("soup.txt", text.as_bytes(), &engine) {
            prop_assert!(f.line >= 1 && f.column >= 1 && f.end_line >= f.line);
        }
    }

    #[test]
    fn a_token_anywhere_is_found_where_it_is(
        before in "[ a-z=:\n]{0,300}",
        after in "[ a-z;,\n]{0,300}",
    ) {
        let engine = engine();
        let tok = token();
        let text = format!("{before} {tok} {after}");
        let found = scan_bytes("t.txt", text.as_bytes(), &engine);
        prop_assert_eq!(found.len(), 1);
        let f = &found[0];
        let prefix = &text[..before.len() + 1];
        let line = u32::try_from(prefix.matches('\n').count() + 1).expect("small");
        let column = u32::try_from(prefix.rsplit('\n').next().map_or(0, str::len) + 1).expect("small");
        prop_assert_eq!((f.rule_id.as_str(), f.line, f.column), ("slack-bot-token", line, column));
        prop_assert!(!f.line_redacted.contains(&tok));
    }
}
