//! Snapshots shared: the view a connection starts with is serialized once per audience per seq
//! (and order), and every socket connecting before the next change is sent the same bytes, with
//! its own `server_time` around them. A crowd connecting at once costs one serialization.

use bytes::Bytes;

use crate::protocol::{Audience, View};
use crate::queue::Timestamp;

/// The last view serialized per audience (moderators, public), with what it was made at.
#[derive(Default)]
pub(super) struct Snapshots([Option<(Key, Bytes)>; 2]);

/// The epoch, the seq and when the order was last published: the view changes with the seq,
/// and with the order (the starvation guard) between two seqs; one made at an earlier moment
/// of the same order is the same view.
type Key = (u32, u64, Timestamp);

impl Snapshots {
    /// The `snapshot` frame for `audience` at `now`: the view last serialized for `key`, or the
    /// one `view` makes (then kept).
    pub(super) fn frame(
        &mut self,
        audience: Audience,
        key: Key,
        now: Timestamp,
        view: impl FnOnce() -> View,
    ) -> Bytes {
        let slot = &mut self.0[usize::from(audience == Audience::Public)];
        let bytes = match slot {
            Some((k, bytes)) if *k == key => bytes.clone(),
            _ => {
                let bytes = Bytes::from(serde_json::to_vec(&view()).expect("views serialize"));
                *slot = Some((key, bytes.clone()));
                bytes
            }
        };
        let (epoch, seq, _) = key;
        frame(epoch, seq, now, &bytes)
    }
}

/// A `snapshot` frame around a view already serialized: the same bytes as
/// `encode(&Outgoing::Snapshot { .. })` (`core_tests.rs` holds them equal).
fn frame(epoch: u32, seq: u64, now: Timestamp, view: &[u8]) -> Bytes {
    let head = format!(
        r#"{{"type":"snapshot","epoch":{epoch},"seq":{seq},"server_time":{},"view":"#,
        now.0
    );
    let mut out = Vec::with_capacity(head.len() + view.len() + 1);
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(view);
    out.push(b'}');
    Bytes::from(out)
}
