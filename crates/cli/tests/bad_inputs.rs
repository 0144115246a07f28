//! The catalogue of bad inputs (`tests/bad-inputs/`): every scenario file,
//! capture and key file in it through the CLI, each with the text a user
//! must see written beside it (`NAME.expected`: what the message begins
//! with). A scenario or a file that
//! cannot be read is exit status 2 with that text on stderr; an IKE message
//! that cannot be read inside a good capture is shown in the chart with its
//! reason. Never a panic. (Share links, which only the page reads, are
//! checked by the page's tests.)

use std::path::{Path, PathBuf};
use std::process::Command;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/bad-inputs")
}

fn mobike(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mobike"))
        .args(args)
        .current_dir(dir())
        .output()
        .unwrap()
}

fn expected(name: &str) -> String {
    let path = dir().join(format!("{name}.expected"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .trim_end()
        .to_string()
}

#[test]
fn every_bad_input_is_refused_with_its_text() {
    let mut files: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".expected") && n != "ike.keys" && !n.ends_with(".md"))
        .collect();
    files.sort();
    assert!(files.len() >= 30, "{} bad inputs", files.len());
    let mut checked = 0;
    for f in &files {
        let (stem, ext) = f.rsplit_once('.').unwrap();
        let out = match ext {
            "toml" => mobike(&["run", f]),
            "pcap" => mobike(&["import", f, "--keys", "ike.keys"]),
            "keys" => mobike(&["import", "ike-bad-icv.pcap", "--keys", f]),
            "link" => continue,
            other => panic!("{f}: no rule for .{other} files"),
        };
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{f}: {stderr}");
        let want = expected(stem);
        if stem.starts_with("ike-") {
            // The capture reads; the message that does not is in the chart.
            assert_eq!(out.status.code(), Some(0), "{f}: {stderr}");
            assert!(stdout.contains(&want), "{f}: the chart lacks {want:?}");
        } else {
            assert_eq!(out.status.code(), Some(2), "{f}: {stdout}{stderr}");
            let first = stderr.lines().next().unwrap_or("");
            let prefix = if ext == "toml" {
                format!("mobike: {f}: ")
            } else {
                "mobike: ".into()
            };
            // The text beside the file is what the message begins with
            // (a list of every valid name may follow).
            let want = format!("{prefix}{want}");
            assert!(
                first.starts_with(&want),
                "{f}: {first:?} does not begin {want:?}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 30, "{checked} checked through the CLI");
}
