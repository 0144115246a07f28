//! The inspector's field spans (`mobike_wire::spans`) on arbitrary bytes:
//! `message_spans` on the whole input (an IKE message as received), and
//! `chain_spans` / `chain_spans_from` / `plaintext_spans` on
//! `[first payload type, rest...]` (an SK payload's inside, with and
//! without Padding and Pad Length).
//!
//! Checks: no panic; every span lies inside the input (offset by the base)
//! and is non-empty; when the call succeeds the spans tile the input in
//! order, without gap or overlap; the functions fail exactly when the
//! header or the payload chain is unsound, with the same error as
//! `Header::parse` / `walk_chain` (the module documentation's promise), and
//! each payload `walk_chain` finds starts a span; the labelled variants
//! (`chain_spans_from`, `plaintext_spans` from either side) give the same
//! ranges.
#![no_main]

use core::ops::Range;
use libfuzzer_sys::fuzz_target;
use mobike_wire::header::HEADER_LEN;
use mobike_wire::payload::walk_chain;
use mobike_wire::spans::{FieldSpan, chain_spans, chain_spans_from, message_spans, plaintext_spans};
use mobike_wire::{Header, PayloadType, WireError};

/// Every span inside `base..base + len`, non-empty and with a path.
fn inside(spans: &[FieldSpan], base: usize, len: usize) {
    for s in spans {
        assert!(
            s.range.start >= base && s.range.end <= base + len,
            "span outside the input {base}..{}: {s:?}",
            base + len
        );
        assert!(s.range.start < s.range.end, "empty span {s:?}");
        assert!(!s.path.is_empty(), "span without a path {s:?}");
    }
}

/// The spans tile `base..base + len`: in order, no gap, no overlap.
fn tiles(spans: &[FieldSpan], base: usize, len: usize) {
    inside(spans, base, len);
    let mut at = base;
    for s in spans {
        assert_eq!(s.range.start, at, "gap or overlap at {s:?}");
        at = s.range.end;
    }
    assert_eq!(at, base + len, "spans stop at {at}, not at {}", base + len);
}

fn ranges(spans: &[FieldSpan]) -> Vec<Range<usize>> {
    spans.iter().map(|s| s.range.clone()).collect()
}

/// Each payload of a sound chain starts with its `Next Payload` span at
/// `base + start`.
fn payload_starts(spans: &[FieldSpan], first: PayloadType, chain: &[u8], base: usize) {
    let raw = walk_chain(first, chain).expect("checked by the caller");
    for r in raw {
        let at = base + r.range.start;
        assert!(
            spans
                .iter()
                .any(|s| s.range.start == at && s.path.ends_with(".Next Payload")),
            "no Next Payload span at {at} for {:?}",
            r.kind
        );
    }
}

/// The same result as `walk_chain` on `chain` (error for error).
fn agrees_with_walk(
    got: &Result<Vec<FieldSpan>, WireError>,
    first: PayloadType,
    chain: &[u8],
    what: &str,
) {
    match (got, walk_chain(first, chain)) {
        (Ok(_), Ok(_)) => {}
        (Err(e), Err(w)) => assert_eq!(e, &w, "{what}: error differs from walk_chain's"),
        (Ok(_), Err(w)) => panic!("{what} accepts a chain walk_chain rejects ({w})"),
        (Err(e), Ok(_)) => panic!("{what} rejects a chain walk_chain accepts ({e})"),
    }
}

fuzz_target!(|data: &[u8]| {
    // A whole message.
    let got = message_spans(data);
    match (&got, Header::parse(data)) {
        (_, Err(h)) => assert_eq!(got, Err(h), "message_spans: header error differs"),
        (_, Ok(h)) => {
            let len = h.length as usize;
            let chain = &data[HEADER_LEN..len];
            agrees_with_walk(&got, h.next_payload, chain, "message_spans");
            if let Ok(spans) = &got {
                tiles(spans, 0, data.len());
                payload_starts(spans, h.next_payload, chain, HEADER_LEN);
                if len < data.len() {
                    let last = spans.last().expect("spans");
                    assert_eq!(last.path, "Trailing data");
                    assert_eq!(last.range, len..data.len());
                }
            }
        }
    }

    // A payload chain, e.g. an SK payload's inside.
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let first = PayloadType::from(first);
    // Any base offset; small enough that base + len cannot overflow.
    let base = data.len() % 97;
    let plain = chain_spans(first, rest, base);
    agrees_with_walk(&plain, first, rest, "chain_spans");
    for from_initiator in [true, false] {
        let from = chain_spans_from(first, rest, base, from_initiator);
        match (&plain, &from) {
            (Ok(a), Ok(b)) => assert_eq!(ranges(a), ranges(b), "chain_spans_from ranges differ"),
            (Err(a), Err(b)) => assert_eq!(a, b),
            _ => panic!("chain_spans and chain_spans_from disagree: {plain:?} / {from:?}"),
        }
    }
    if let Ok(spans) = &plain {
        tiles(spans, base, rest.len());
        payload_starts(spans, first, rest, base);
    }

    // The same bytes as a whole SK plaintext: payloads, Padding, Pad Length.
    let sk_i = plaintext_spans(first, rest, true);
    let sk_r = plaintext_spans(first, rest, false);
    match (&sk_i, &sk_r) {
        (Ok(a), Ok(b)) => assert_eq!(ranges(a), ranges(b), "plaintext_spans ranges differ"),
        (Err(a), Err(b)) => assert_eq!(a, b),
        _ => panic!("plaintext_spans differs by side: {sk_i:?} / {sk_r:?}"),
    }
    match rest.split_last() {
        None => assert!(sk_i.is_err(), "empty plaintext accepted"),
        Some((&pad, _)) if pad as usize + 1 > rest.len() => {
            assert!(sk_i.is_err(), "Pad Length {pad} longer than the plaintext accepted")
        }
        Some((&pad, _)) => {
            let end = rest.len() - pad as usize - 1;
            agrees_with_walk(&sk_i, first, &rest[..end], "plaintext_spans");
            if let Ok(spans) = &sk_i {
                tiles(spans, 0, rest.len());
                payload_starts(spans, first, &rest[..end], 0);
                let last = spans.last().expect("spans");
                assert_eq!(last.path, "SK.Pad Length");
                assert_eq!(last.range, rest.len() - 1..rest.len());
            }
        }
    }
});
