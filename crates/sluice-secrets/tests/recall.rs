//! Recall holes (issue 15, items 10, 13 and 14), each written as the attack: a real credential
//! that the engine used to drop or never look at. Every credential here is made at run time
//! or is a key generated for this test that protects nothing.

mod common;

use std::fs;
use std::io::Write;
use std::path::PathBuf;

use common::{github_token, write};
use proptest::prelude::*;
use sluice_secrets::{scan, scan_bytes, Config, Engine, Finding, Target};

fn config() -> Config {
    Config { max_file_size: 64 * 1024, extra_rules: Vec::new(), allow_paths: Vec::new(), peer_annotations: true }
}

fn engine() -> Engine {
    Engine::new(&config()).expect("engine")
}

fn ids(found: &[Finding]) -> Vec<&str> {
    found.iter().map(|f| f.rule_id.as_str()).collect()
}

/// The base64 body of an RSA-2048 PKCS#8 key made with `openssl genpkey` for this test; it
/// protects nothing. The armour lines are split so that the file itself is not a key.
const RSA_BODY: &[&str] = &[
    "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCwHMDm9QhfgR4R\n",
    "mUNB4gruVS/jwCerEh7rgZQANoRNykI8+RojoltSg4mYXeAEVlof79Tz957AXi2S\n",
    "PtuyPxf/o7/YpM2R+V0VKWvAXS4Y9hwjYmZXik3bYxtLTyKjUAaK25CsBHrB9S7G\n",
    "0e0AZVbUp5ozLUItyrhYVqn7kkvx0raur+wJf7cLYeAzogpbxgUj21rouiGwh1Pc\n",
    "zxvDMBYLVwNHgCF9Z8ecGHIm9NYX3zfJrxgwGxDntMNaD9sLw1Eqq8d/jTEMXPfA\n",
    "74KqvHb3zGCMRCuE2q44nWknUoBCccGYZexFtECGQSO+erAq+mTSS/y4QQs3PgMD\n",
    "10JIXD53AgMBAAECggEAE3Wh5QM3QSJJucUXFu0MqygTihVd7LusWfZv7ZQYi2Xp\n",
    "asZVmpFiiNwK9KCO07vc6oF8JNb8HiJp46p5aRkqpC8qUBxpsJL+s4tnohJJuS1c\n",
    "j5ZcW5jnIHIzfl9IowYBKw+2zSMTk2HtoL9qcixAa2/3jGcYVGn9c5lj3+3a4WXp\n",
    "hk5shQWBKC5zN2L3JFIB6IOh45ErIuFcHtRSuidLnCs1FeyHj8YD9c9d6hLJsY9F\n",
    "/ojyWZietTIc2jUyDil1eSHmEI21iihEuIwmOkZJBdWmN1VePzLEnOIb32fsF+YW\n",
    "uheW8YrK+Z230KN112YCRrGndsog8+cXONwFA4dDgQKBgQDk4NDnB67NqJCHPNFf\n",
    "TTC8mH1e5xz8mj42cuL0vzfbQLoEAgYm3am9U7Z0tAHRhGZqdA8Gw/ch4AfL87dF\n",
    "w8/ptSj1XTpAbOBq6wZJfmfb6+8wPQP6H3d9QgH3dGDaf7lh59SZ+5NS19N02NrF\n",
    "sO01AlDqzSvSz9wxCLcZ3sSt9wKBgQDE+z88USB/+mKBbhXr3UegBYqelQderGOz\n",
    "DRu74fpk/C7U/Gr9h6Ez2E5YHF2YFji+I9WYQK0om102CCZEqpTwerZWz6Bf7s4X\n",
    "5fumSgaJ02awDcs/EyieuaupXCCPMeCikaQuLE0QhhXRmY45Gqj1UNKjvxWVPI1H\n",
    "5gwis5LTgQKBgE83jLZZz2O5EwTrxN/CXLr54HKndT3suNmpm+nwAQou9fMLLEvp\n",
    "bqVrwvvTjcmRlM0FjGngC7o6yxgJK4bHBkAyhpGeCdpglLAM1mk7igDxQSEmDSlW\n",
    "GMpOvVWDfz5A9M3xKoF9NHl43+RSZi4EVaWCPrV1+9QEQ4bpKE6Y7uPzAoGAHI6E\n",
    "C12Dhaop77Oi7+/De3pyLy1RxTLevU1wMNvA7jT1ISF67UhlYVvBd9qc4viNv1r4\n",
    "kzsFH3bum2+xBJFqSDayCoHNMTswm5xW0DO5IPAJ2goV5g4D/IbUURgvDDNh6o+M\n",
    "qrj3bybRMPK/AJ5R0kamUuDX4yvFG6BJMBqydYECgYBoZf7Ezu/uRPNdh2s4CO5c\n",
    "qQCGD1JAnNgODI66+0VvAzcNPA58t1RJwsi6gVbNQp0lyjTw8A5edUvHNbFq3aYf\n",
    "oPBMIrSbMbX0q/M6Q5JrL2hGVg3r5pD6CsSSBz9xW4+qM/ZmrAqo4P8zb8kjYqwb\n",
    "FGTEJDv4RD+GAgvZ3GFuXQ==\n",
];

fn pem(body_lines: &[String]) -> String {
    let mut text = String::from("key = \"\"\"\n");
    text.push_str(&["-----BEGIN ", "PRIVATE KEY-----\n"].concat());
    for line in body_lines {
        text.push_str(line);
    }
    text.push_str(&["-----END ", "PRIVATE KEY-----\n"].concat());
    text.push_str("\"\"\"\n");
    text
}

// ---------------------------------------------------------------------------------------------
// item 14: placeholder words inside long random values

#[test]
fn a_real_private_key_whose_body_contains_a_placeholder_word_is_reported() {
    let engine = engine();
    let lines: Vec<String> = RSA_BODY.iter().map(|l| (*l).to_owned()).collect();
    assert_eq!(ids(&scan_bytes("key.py", pem(&lines).as_bytes(), &engine)), ["private-key-pkcs8"]);
    // The same key with four of its characters turned into `FAkE` by chance: still a key.
    let mut spliced = lines.clone();
    spliced[9].replace_range(20..24, "FAkE");
    let found = scan_bytes("key.py", pem(&spliced).as_bytes(), &engine);
    assert_eq!(ids(&found), ["private-key-pkcs8"], "a key body containing `FAkE` was dropped as a placeholder");
    assert_eq!((found[0].line, found[0].end_line), (3, 28));
}

/// Placeholder words that can occur in base64 text, in any case.
const WORDS: &[&str] = &[
    "fake",
    "xxxx",
    "example",
    "sample",
    "placeholder",
    "changeme",
    "changeit",
    "dummy",
    "redacted",
    "insert",
    "replace",
    "notreal",
    "lorem",
    "ipsum",
    "foobar",
    "yourkey",
    "yoursecret",
    "yourtoken",
    "yourpass",
    "test",
    "mock",
    "demo",
    "secret",
    "token",
    "admin",
    "default",
    "none",
    "null",
    "todo",
    "here",
    "tiger",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_key_bodies_with_a_placeholder_word_inside_are_reported(
        body in "[A-Za-z0-9+/]{800,1600}",
        word in proptest::sample::select(WORDS),
        upper in proptest::collection::vec(any::<bool>(), 11),
        at in any::<prop::sample::Index>(),
    ) {
        let word: String = word
            .chars()
            .zip(upper.iter().cycle())
            .map(|(c, &up)| if up { c.to_ascii_uppercase() } else { c })
            .collect();
        let mut body = body;
        body.insert_str(at.index(body.len() + 1), &word);
        body.push_str("==");
        let lines: Vec<String> =
            body.as_bytes().chunks(64).map(|c| format!("{}\n", String::from_utf8_lossy(c))).collect();
        let text = pem(&lines);
        let found = scan_bytes("key.pem", text.as_bytes(), &engine());
        prop_assert_eq!(ids(&found), ["private-key-pkcs8"], "{} inside a key body", word);
    }

    #[test]
    fn random_tokens_with_a_mixed_case_placeholder_word_inside_are_reported(
        payload in "[A-Za-z0-9]{30}",
        // Words short enough to turn up by chance in a 30-character random payload.
        word in proptest::sample::select(&["fAkE", "FaKE", "xXxX", "DuMmY", "tEsT", "LoReM", "NuLl"][..]),
        at in 0usize..27,
    ) {
        let mut payload = payload;
        let end = (at + word.len()).min(30);
        payload.replace_range(at..end, &word[..end - at]);
        let text = format!("GITHUB_TOKEN={}\n", github_token(&payload));
        let found = scan_bytes("t.env", text.as_bytes(), &engine());
        prop_assert_eq!(ids(&found), ["github-pat-classic"], "{}", text);
    }
}

#[test]
fn real_placeholders_are_still_filtered() {
    let engine = engine();
    for text in [
        "api_key = \"your-api-key-here\"",
        "API_KEY=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "token: <TOKEN>",
        "password = \"<TOKEN>\"",
        "password = \"changeme\"",
        "password = \"changeme123\"",
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
        "aws_access_key_id = AKIAI44QH8DHBEXAMPLE",
        "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "stripe_key = sk_live_YOUR_SECRET_KEY_HERE_1234",
        "SLACK_TOKEN=xoxb-your-token-here",
        "password = \"testpassword99\"",
        "key = \"\"\"\n-----BEGIN PRIVATE KEY-----\nXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\n-----END PRIVATE KEY-----\n\"\"\"",
        "-----BEGIN RSA PRIVATE KEY-----\nyour-private-key-goes-here\n-----END RSA PRIVATE KEY-----",
    ] {
        let found = scan_bytes("config.txt", text.as_bytes(), &engine);
        assert!(found.is_empty(), "{text}: {:?}", ids(&found));
    }
}

// ---------------------------------------------------------------------------------------------
// item 14: Twilio API keys without the word "twilio"

#[test]
fn a_twilio_api_key_is_found_without_the_word_twilio() {
    let engine = engine();
    let sid = ["SK", "4587877dcfeecf9c", "43095be98c26c1aa"].concat();
    for text in [
        format!("TWILIO_API_KEY=\"{sid}\"\n"),
        format!("API_KEY_SID={sid}\n"),
        format!("client = Client(\"{sid}\", api_secret, account_sid)\n"),
        format!("sms:\n  key: {sid}\n"),
    ] {
        let found = scan_bytes("settings.py", text.as_bytes(), &engine);
        assert_eq!(ids(&found), ["twilio-api-key"], "{text}");
    }
    // Not a key: uppercase hex, 31 or 33 digits, glued to a word, a run of one digit.
    for text in [
        ["key = SK", "4587877DCFEECF9C43095BE98C26C1AA"].concat(),
        ["key = SK", "4587877dcfeecf9c43095be98c26c1a"].concat(),
        ["key = SK", "4587877dcfeecf9c43095be98c26c1aa0"].concat(),
        ["TASK", "4587877dcfeecf9c43095be98c26c1aa"].concat(),
        ["key = SK", "00000000000000000000000000000000"].concat(),
    ] {
        let found = scan_bytes("settings.py", text.as_bytes(), &engine);
        assert!(!ids(&found).contains(&"twilio-api-key"), "{text}");
    }
}

// ---------------------------------------------------------------------------------------------
// item 13: a secret as a file or directory name

#[test]
fn a_secret_used_as_a_file_or_directory_name_is_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let file_token = github_token("Zq3vT9LmR2wXk8PbN5cY7dHj4FsA1e");
    let dir_token = github_token("Hm4Jp8YQw7Zr2LkVb9NfT3XcK5tBn6");
    write(root, &format!("notes/{file_token}.txt"), b"nothing secret in here\n");
    write(root, &format!("cache/{dir_token}/a.json"), b"{}\n");
    write(root, &format!("cache/{dir_token}/b.json"), b"{}\n");
    // Binaries are not read, but their names are still names.
    write(root, &format!("bin/{}.bin", github_token("Lp0Wq2Er4Ty6Ui8Op1As3Df5Gh7Jk9")), b"\x00\x01\x02");
    let result = scan(Target::Dir(root), &config()).expect("scan");
    let found: Vec<(&str, &str, u32)> =
        result.findings.iter().map(|f| (f.path.as_str(), f.rule_id.as_str(), f.line)).collect();
    assert_eq!(found.len(), 3, "secrets in names: {found:?}");
    for f in &result.findings {
        assert_eq!(f.rule_id, "github-pat-classic");
        assert_eq!(f.line, 1);
        assert!(!f.line_redacted.contains(&file_token[4..20]) && !f.line_redacted.contains(&dir_token[4..20]));
    }
    // Diff-aware scans see the names of the files they are given.
    let files = [PathBuf::from(format!("notes/{file_token}.txt"))];
    let result = scan(Target::Files { root, files: &files }, &config()).expect("scan");
    assert_eq!(ids(&result.findings), ["github-pat-classic"]);
}

// ---------------------------------------------------------------------------------------------
// item 10: files above the size cap are scanned in bounded windows

#[test]
fn an_oversized_text_file_is_scanned_in_windows_with_correct_lines() {
    const MIB: usize = 1 << 20;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("dump.sql");
    let filler = "INSERT INTO log VALUES (1, 'a line of an export that is not secret at all');\n";
    let mut file = std::io::BufWriter::new(fs::File::create(&path).expect("create"));
    let mut written = 0usize;
    let mut line = 1u32;
    let mut expected = Vec::new();
    let mut n = 0u32;
    // One token across every MiB boundary up to 30 MiB (the window boundaries, whatever the
    // window size that divides a MiB), then one at the very end.
    while written < 30 * MIB {
        let next_boundary = (written / MIB + 1) * MIB;
        if written + filler.len() + 60 < next_boundary || next_boundary > 30 * MIB {
            file.write_all(filler.as_bytes()).expect("write");
            written += filler.len();
            line += 1;
            continue;
        }
        // Pad up to 20 bytes before the boundary, then the token straddles it.
        let pad = next_boundary - 20 - written - "token: ".len();
        let payload = format!("Zq3vT9LmR2wXk8PbN5cY7dHj4F{n:04}");
        let token = github_token(&payload);
        let text = format!("{}token: {token}\n", "-".repeat(pad));
        file.write_all(text.as_bytes()).expect("write");
        expected.push((line, u32::try_from(pad + "token: ".len() + 1).expect("small")));
        written += text.len();
        line += 1;
        n += 1;
    }
    let last = github_token("Lp0Wq2Er4Ty6Ui8Op1As3Df5Gh7Jk9");
    write!(file, "export GITHUB_TOKEN={last}").expect("write");
    expected.push((line, 21));
    file.flush().expect("flush");
    drop(file);

    let result = scan(Target::Dir(dir.path()), &config()).expect("scan");
    assert!(result.skipped.is_empty(), "skipped: {:?}", result.skipped);
    let found: Vec<(u32, u32)> = result.findings.iter().map(|f| (f.line, f.column)).collect();
    assert_eq!(found.len(), expected.len(), "one finding per token, each once");
    assert_eq!(found, expected);
    assert!(result.findings.iter().all(|f| f.rule_id == "github-pat-classic" && f.path == "dump.sql"));
}
