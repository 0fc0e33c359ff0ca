//! Opaque list cursors, as DRF's CursorPagination: a position in one list's order — the
//! ordering key and the `id` tie-breaker of a row — that the next page starts after (or the
//! previous page ends before), so that a page at any depth is an index range, not an
//! offset, and rows inserted meanwhile neither repeat nor skip a row.
//!
//! A cursor is URL-safe base64 of a short checksum and a JSON object naming the list (its
//! path), the ordering, the position and the direction. It is not secret: the checksum
//! only makes a mangled or hand-edited cursor a clear 400 instead of a silently different
//! page.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Bytes of SHA-256 kept as the checksum.
const CHECKSUM_BYTES: usize = 6;

/// A row's place in a list's order: its ordering key (`null` when the row has none) and
/// its `id`, both as PostgreSQL's `to_jsonb` gives them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// The ordering column's value.
    #[serde(rename = "k")]
    pub key: Value,
    /// The row's `id` (a UUID string or an integer).
    #[serde(rename = "i")]
    pub id: Value,
}

/// Where a cursor page starts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// The list's path: a cursor walks the list it came from only.
    #[serde(rename = "l")]
    pub list: String,
    /// The ordering it was made for (`-created_at`).
    #[serde(rename = "o")]
    pub ordering: String,
    /// The row the page starts after (or, going back, ends before); none for the list's
    /// first page walked by cursor (`?cursor=` left empty).
    #[serde(rename = "p", default, skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
    /// Whether the page is the one before `position` (a `previous` link).
    #[serde(rename = "b", default, skip_serializing_if = "std::ops::Not::not")]
    pub backwards: bool,
}

impl Cursor {
    /// The opaque text of the cursor.
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).expect("a cursor serializes");
        let mut bytes = checksum(&json).to_vec();
        bytes.extend_from_slice(&json);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Reads a cursor made by [`Cursor::encode`]; the error says what is wrong with it.
    pub fn decode(text: &str) -> Result<Cursor, String> {
        let bytes = URL_SAFE_NO_PAD.decode(text.trim()).map_err(|_| {
            "Invalid cursor: not a cursor this API issued (bad encoding)".to_owned()
        })?;
        if bytes.len() <= CHECKSUM_BYTES {
            return Err("Invalid cursor: too short to be a cursor this API issued".into());
        }
        let (sum, json) = bytes.split_at(CHECKSUM_BYTES);
        if sum != checksum(json) {
            return Err("Invalid cursor: it was altered (checksum mismatch)".into());
        }
        serde_json::from_slice(json)
            .map_err(|error| format!("Invalid cursor: unreadable content ({error})"))
    }
}

fn checksum(json: &[u8]) -> [u8; CHECKSUM_BYTES] {
    let digest = Sha256::new()
        .chain_update(b"gitomatic list cursor\0")
        .chain_update(json)
        .finalize();
    let mut sum = [0; CHECKSUM_BYTES];
    sum.copy_from_slice(&digest[..CHECKSUM_BYTES]);
    sum
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cursor() -> Cursor {
        Cursor {
            list: "/github/developers/".into(),
            ordering: "-created_at".into(),
            position: Some(Position {
                key: json!("2020-01-02T03:04:05.123456+00:00"),
                id: json!("0b5e8c6e-2f7e-4a4e-9d3c-0f6a1b2c3d4e"),
            }),
            backwards: false,
        }
    }

    #[test]
    fn a_cursor_reads_back_as_it_was_made() {
        let made = cursor();
        let text = made.encode();
        assert!(
            text.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(Cursor::decode(&text), Ok(made));
        let back = Cursor {
            backwards: true,
            ..cursor()
        };
        assert_eq!(Cursor::decode(&back.encode()), Ok(back));
    }

    #[test]
    fn an_altered_cursor_is_refused_with_a_reason() {
        let text = cursor().encode();
        // Change one character in the middle of the payload.
        let mut chars: Vec<char> = text.chars().collect();
        let middle = chars.len() / 2;
        chars[middle] = if chars[middle] == 'A' { 'B' } else { 'A' };
        let altered: String = chars.into_iter().collect();
        let error = Cursor::decode(&altered).expect_err("altered");
        assert!(error.starts_with("Invalid cursor"), "{error}");
        for junk in ["", "abc", "!!!", "cGFnZT0y"] {
            let error = Cursor::decode(junk).expect_err(junk);
            assert!(error.starts_with("Invalid cursor"), "{junk}: {error}");
        }
        // A well-formed payload with a forged checksum.
        let json = serde_json::to_vec(&cursor()).expect("json");
        let mut forged = vec![0; CHECKSUM_BYTES];
        forged.extend_from_slice(&json);
        let error = Cursor::decode(&URL_SAFE_NO_PAD.encode(forged)).expect_err("forged");
        assert!(error.contains("altered"), "{error}");
    }
}
