//! `mobike import` and the page's Open file… from arbitrary bytes: a
//! capture and a key file; the importer never panics, and what it imports
//! names its parties in a scenario that reads, and draws as a chart.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mobike_render::Chart;
use mobike_render::import::{import, read_keys};

fuzz_target!(|data: &[u8]| {
    // The key file's text, then the capture, split at the first 0xff 0x00.
    let split = data.windows(2).position(|w| w == [0xff, 0x00]);
    let (keys_text, capture) = match split {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (&data[..0], data),
    };
    let keys = read_keys("keys", &String::from_utf8_lossy(keys_text)).unwrap_or_default();
    let Ok(got) = import("capture.pcap", capture, &keys) else {
        return;
    };
    assert!(got.datagrams <= got.frames);
    assert!(got.keyed <= got.ike_sas);
    let s = got
        .observed
        .scenario()
        .expect("an import names its parties in a scenario that reads");
    let chart = Chart::build(&s, got.observed.trace());
    assert!(chart.rows.len() <= got.observed.trace().len());
});
