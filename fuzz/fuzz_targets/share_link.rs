//! Share links (the URL hash) from arbitrary text: the decoder never
//! panics; a link it accepts opens as a session (when its run is short) and
//! encodes to a link that decodes to the same run.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mobike_playground::share;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(Some(shared)) = share::decode(&text) else {
        return;
    };
    let (time, hosts, log) = (shared.time, shared.scenario.hosts.len(), shared.log.len());
    if time <= 30_000_000 && hosts <= 20 && log <= 50 {
        let s = shared.into_session();
        let again = share::decode(&share::encode(&s))
            .expect("an encoded link decodes")
            .expect("and is a link");
        assert_eq!(again.log.len(), log);
        assert_eq!(again.time, s.now());
    }
});
