//! Who is acting, in one table. A link's capability (or the admin token, or no token at all)
//! makes its holder a [`Principal`]; the table below says what each principal is to the rest of
//! the service: the core's [`Actor`] its commands are decided for (none for a read-only view),
//! the [`Audience`] whose view and updates it is sent, and the role name the welcome frame, the
//! connection gauge and the logs know it by. The socket (`ws`) and the routes (`http`) both ask
//! here; nothing else maps roles. The consoles learn their role from the welcome's `role`.

use crate::auth::{Capability, Role};
use crate::protocol::Audience;
use crate::queue::{Actor, ParticipantId};

/// Who is acting: what a request or a connection may do, and what it is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    /// The organizer, by the admin token (the HTTP API only): may do whatever the chair may.
    Organizer,
    /// The chair (the onsite moderator).
    Chair,
    /// The online moderator.
    OnlineModerator,
    /// A participant who joined, by their own link.
    Participant(ParticipantId),
    /// Holder of the session's shared participant link who has not joined yet: may only join.
    Newcomer,
    /// The display, or the public view without a link: read only.
    Viewer,
}

/// One row of the table.
struct Row {
    actor: Option<Actor>,
    audience: Audience,
    name: &'static str,
}

impl Principal {
    /// What a verified capability makes its holder (`None`: no token, the public view). The
    /// capability's session and key epoch are the caller's to check first.
    pub const fn of(capability: Option<&Capability>) -> Self {
        match capability {
            None => Principal::Viewer,
            Some(c) => match (c.role, c.participant) {
                (Role::Chair, _) => Principal::Chair,
                (Role::OnlineModerator, _) => Principal::OnlineModerator,
                (Role::Participant, Some(p)) => Principal::Participant(p),
                (Role::Participant, None) => Principal::Newcomer,
                (Role::Display, _) => Principal::Viewer,
            },
        }
    }

    /// The table: every principal, what it acts as, what it is sent, what it is called.
    const fn row(self) -> Row {
        use Audience::{Moderator, Public};
        let (actor, audience, name) = match self {
            Principal::Organizer => (Some(Actor::Organizer), Moderator, "organizer"),
            Principal::Chair => (Some(Actor::Chair), Moderator, "chair"),
            Principal::OnlineModerator => {
                (Some(Actor::OnlineModerator), Moderator, "online_moderator")
            }
            Principal::Participant(p) => (Some(Actor::Participant(p)), Public, "participant"),
            // A newcomer is welcomed as a participant with no id yet: the page is the same.
            Principal::Newcomer => (Some(Actor::Newcomer), Public, "participant"),
            Principal::Viewer => (None, Public, "viewer"),
        };
        Row {
            actor,
            audience,
            name,
        }
    }

    /// The core's actor for this principal's commands; `None` for a read-only view.
    pub const fn actor(self) -> Option<Actor> {
        self.row().actor
    }

    /// Whose view this principal is sent: moderators see notes and declared fields.
    pub const fn audience(self) -> Audience {
        self.row().audience
    }

    /// The role name on the wire (`welcome`'s `role`), in the connection gauge and in logs.
    pub const fn name(self) -> &'static str {
        self.row().name
    }

    /// The participant this principal is, once joined.
    pub const fn participant(self) -> Option<ParticipantId> {
        match self {
            Principal::Participant(p) => Some(p),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::SessionId;

    fn cap(role: Role, participant: Option<u32>) -> Capability {
        Capability {
            role,
            session: SessionId::random(),
            participant: participant.map(ParticipantId),
            epoch: 1,
        }
    }

    /// Every link role, and the admin token and no token, through the whole table.
    #[test]
    fn every_role_walks_the_table() {
        let p = ParticipantId(4);
        #[rustfmt::skip]
        let table = [
            // (principal, from a capability of, actor, audience, name)
            (Principal::Organizer, None, Some(Actor::Organizer), Audience::Moderator, "organizer"),
            (Principal::Chair, Some(cap(Role::Chair, None)), Some(Actor::Chair), Audience::Moderator, "chair"),
            (Principal::OnlineModerator, Some(cap(Role::OnlineModerator, None)), Some(Actor::OnlineModerator), Audience::Moderator, "online_moderator"),
            (Principal::Participant(p), Some(cap(Role::Participant, Some(4))), Some(Actor::Participant(p)), Audience::Public, "participant"),
            (Principal::Newcomer, Some(cap(Role::Participant, None)), Some(Actor::Newcomer), Audience::Public, "participant"),
            (Principal::Viewer, Some(cap(Role::Display, None)), None, Audience::Public, "viewer"),
        ];
        for (principal, from, actor, audience, name) in table {
            if let Some(c) = from {
                assert_eq!(Principal::of(Some(&c)), principal, "{c:?}");
            }
            assert_eq!(principal.actor(), actor, "{principal:?}");
            assert_eq!(principal.audience(), audience, "{principal:?}");
            assert_eq!(principal.name(), name, "{principal:?}");
            assert_eq!(
                principal.participant(),
                matches!(principal, Principal::Participant(_)).then_some(p)
            );
        }
        assert_eq!(
            Principal::of(None),
            Principal::Viewer,
            "no token: the public view"
        );
        // Moderators' audience and the core's moderators are the same people.
        for (principal, ..) in table {
            assert_eq!(
                principal.audience() == Audience::Moderator,
                principal.actor().is_some_and(Actor::is_moderator),
                "{principal:?}"
            );
        }
    }

    /// Every name a connection can be welcomed as is one docs/protocol.md lists.
    #[test]
    fn welcome_role_names_are_the_documented_ones() {
        let doc = include_str!("../docs/protocol.md");
        let on_sockets = [
            Principal::Chair,
            Principal::OnlineModerator,
            Principal::Participant(ParticipantId(1)),
            Principal::Newcomer,
            Principal::Viewer,
        ];
        for principal in on_sockets {
            let name = principal.name();
            assert!(
                doc.contains(&format!("`{name}`")),
                "{name} is not in docs/protocol.md"
            );
        }
    }
}
