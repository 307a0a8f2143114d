//! The session's update channels, one per audience: a frame with nothing for the public (no
//! public bytes) is not sent on the public's channel, so none of its connections wakes for it.

use std::sync::Arc;

use tokio::sync::broadcast;

use crate::protocol::Audience;
use crate::session::Frame;

/// The updates' channels, one per audience.
pub(super) struct Updates {
    moderator: broadcast::Sender<Arc<Frame>>,
    public: broadcast::Sender<Arc<Frame>>,
}

impl Updates {
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            moderator: broadcast::channel(capacity).0,
            public: broadcast::channel(capacity).0,
        }
    }

    /// Send `frame` to each audience it has bytes for (moderators get every frame). An error
    /// only means nobody of that audience is subscribed right now.
    pub(super) fn send(&self, frame: Arc<Frame>) {
        if frame.public.is_some() {
            let _ = self.public.send(frame.clone());
        }
        let _ = self.moderator.send(frame);
    }

    pub(super) fn subscribe(&self, audience: Audience) -> broadcast::Receiver<Arc<Frame>> {
        match audience {
            Audience::Moderator => self.moderator.subscribe(),
            Audience::Public => self.public.subscribe(),
        }
    }

    /// Connections subscribed.
    pub(super) fn receivers(&self) -> usize {
        self.moderator.receiver_count() + self.public.receiver_count()
    }
}
