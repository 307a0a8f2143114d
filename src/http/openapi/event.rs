//! The event's operations (`docs/api.md`, "Events: rooms and the programme"): the rooms and
//! their permanent links, the programme's import and export, the official report. One row per
//! route in `http::router`, as in `endpoints.rs`.

use utoipa::openapi::path::HttpMethod;

use super::endpoints::{
    Auth, Body, Endpoint, FORBIDDEN, NOT_FOUND, Param, Request, UNAUTHORIZED, UNAVAILABLE,
    UNSUPPORTED_MEDIA,
};

const UNKNOWN_ROOM: (&str, &str) = ("404", "`unknown_room`: no such room");
const MOVED: (&str, &str) = (
    "409",
    "`programme_moved` (a cluster): another node changed the programme at the same moment; nothing changed, try again",
);
const TOO_LARGE: (&str, &str) = (
    "413",
    "`programme_too_large` (a cluster): the programme would outgrow one NATS message (`max_payload`)",
);

pub(super) fn endpoints() -> Vec<Endpoint> {
    use HttpMethod::{Delete, Get, Post, Put};
    let admin = |path, id, summary, answer, errors| Endpoint {
        method: Get,
        path,
        id,
        summary,
        auth: Auth::Admin,
        query: &[],
        request: None,
        status: "200",
        answer,
        also: &[],
        errors,
    };
    let room = |path, id, summary, auth, answer, errors| Endpoint {
        auth,
        ..admin(path, id, summary, answer, errors)
    };
    let igf = |path, id, summary, answer| Endpoint {
        auth: Auth::AdminOrLink,
        ..admin(
            path,
            id,
            summary,
            answer,
            &[FORBIDDEN, NOT_FOUND, UNAVAILABLE],
        )
    };
    vec![
        Endpoint {
            method: Put,
            request: Some(Request::Json("SetRooms")),
            errors: &[
                ("400", "`bad_json`: the body is not JSON"),
                UNSUPPORTED_MEDIA,
                (
                    "422",
                    "`bad_field` (a missing or invalid field, named), `bad_room` (a name empty, over 100 characters, with control characters or a formula), `duplicate_room` (a name listed twice) or `too_many_rooms` (over 500)",
                ),
                (
                    "413",
                    "`body_too_large`, or on a cluster `programme_too_large` (the programme would outgrow one NATS message)",
                ),
                MOVED,
                UNAUTHORIZED,
            ],
            ..admin(
                "/api/rooms",
                "set_rooms",
                "Add rooms, or update the room of the same name (case ignored); a room keeps its id, display link and poster link for good (admin token). The answer is every room.",
                Body::Json("Rooms"),
                &[],
            )
        },
        Endpoint {
            method: Delete,
            ..admin(
                "/api/rooms/{id}",
                "delete_room",
                "Delete a room that has no programme entry left (admin token); its display and poster links stop working. The answer is every room left.",
                Body::Json("Rooms"),
                &[
                    UNAUTHORIZED,
                    UNKNOWN_ROOM,
                    (
                        "409",
                        "`room_in_use`: the room still has programme entries (the message says how many and names the first); delete them or move them to another room first; on a cluster also `programme_moved` (another node changed the programme at the same moment; nothing changed, try again)",
                    ),
                    TOO_LARGE,
                    UNAVAILABLE,
                ],
            )
        },
        Endpoint {
            method: Delete,
            ..admin(
                "/api/programme/entries/{id}",
                "delete_programme_entry",
                "Delete a programme entry by its external id (admin token). Its session stays, with its log, links and report; it only leaves the programme and the room's display.",
                Body::Json("DeletedEntry"),
                &[
                    UNAUTHORIZED,
                    ("404", "`unknown_entry`: no programme entry has this id"),
                    (
                        "409",
                        "`session_on`: the entry's session is on in its room now and not ended; end it first, or wait for its end; on a cluster also `programme_moved` (another node changed the programme at the same moment; nothing changed, try again)",
                    ),
                    TOO_LARGE,
                    UNAVAILABLE,
                ],
            )
        },
        admin(
            "/api/rooms",
            "list_rooms",
            "Every room with its permanent display and poster links, in the order defined (admin token).",
            Body::Json("Rooms"),
            &[UNAUTHORIZED],
        ),
        room(
            "/api/rooms/{id}/now",
            "room_now",
            "What the room's display shows now: the session on (unless its chair ended it), the next one, and when the answer changes by the clock (the room's display token, or the admin token).",
            Auth::AdminOrLink,
            Body::Json("RoomNow"),
            &[
                (
                    "403",
                    "`forbidden`: neither the room's display token nor the admin token",
                ),
                UNKNOWN_ROOM,
                UNAVAILABLE,
            ],
        ),
        room(
            "/api/rooms/{id}/join",
            "room_join",
            "The join link of the session on in the room now, else of the next one (the room's poster token, its display token, or the admin token).",
            Auth::AdminOrLink,
            Body::Json("RoomJoin"),
            &[
                (
                    "403",
                    "`forbidden`: none of the room's poster token, its display token or the admin token",
                ),
                UNKNOWN_ROOM,
                UNAVAILABLE,
            ],
        ),
        room(
            "/api/rooms/{id}/poster",
            "room_poster",
            "The room's permanent poster: its join link and that link's QR code (admin token).",
            Auth::Admin,
            Body::Json("RoomPoster"),
            &[UNAUTHORIZED, UNKNOWN_ROOM],
        ),
        Endpoint {
            method: Post,
            query: &[
                Param {
                    name: "format",
                    description: "The file's format; by default `ics` if the body begins `BEGIN:VCALENDAR`, else `csv`.",
                    boolean: false,
                    values: &["csv", "ics"],
                },
                Param {
                    name: "dry_run",
                    description: "Only say what would happen: nothing is changed.",
                    boolean: true,
                    values: &[],
                },
                Param {
                    name: "tz",
                    description: "The IANA time zone of times given without an offset, e.g. `Europe/Berlin`.",
                    boolean: false,
                    values: &[],
                },
            ],
            request: Some(Request::File(&["text/csv", "text/calendar"])),
            also: &[(
                "422",
                "the plan with every refused row (or the file refused whole, `at: file`); nothing was changed",
                "Plan",
            )],
            errors: &[
                (
                    "400",
                    "`bad_query` (an unknown format or parameter), `unknown_time_zone` or `bad_body` (the body could not be read)",
                ),
                (
                    "413",
                    "`body_too_large`: a file over 4 MiB; on a cluster `programme_too_large` (the programme would outgrow one NATS message)",
                ),
                UNAUTHORIZED,
                (
                    "409",
                    "a queue code: the core refused a session the plan had checked; nothing was changed (or on a cluster `programme_moved`: another node changed the programme at the same moment; the programme is unchanged, try again)",
                ),
                UNAVAILABLE,
            ],
            ..admin(
                "/api/programme/import",
                "import_programme",
                "Import a programme from a CSV or iCalendar file, all or nothing (admin token): the plan, applied (or only planned with `dry_run=true`). Re-importing a file updates the entries of the same id instead of adding others.",
                Body::Json("Plan"),
                &[],
            )
        },
        admin(
            "/api/programme",
            "programme",
            "The rooms and every programme entry, by room and start (admin token).",
            Body::Json("ProgrammeList"),
            &[UNAUTHORIZED],
        ),
        admin(
            "/api/programme.csv",
            "programme_csv",
            "The programme as CSV: `id, title, room, start, end` (RFC 3339, UTC), `session` and every session's role links as they work now (admin token).",
            Body::Text("text/csv"),
            &[UNAUTHORIZED, UNAVAILABLE],
        ),
        admin(
            "/api/programme/report.md",
            "event_report",
            "The event's summary for the secretariat, recomputed from every programme session's log, as Markdown (admin token).",
            Body::Text("text/markdown"),
            &[UNAUTHORIZED, UNAVAILABLE],
        ),
        admin(
            "/api/programme/report.json",
            "event_report_json",
            "The event's summary for the secretariat, as data: what the Markdown says (admin token).",
            Body::Json("EventSummary"),
            &[UNAUTHORIZED, UNAVAILABLE],
        ),
        igf(
            "/api/sessions/{id}/report.igf.json",
            "igf_report_json",
            "The session's report in the IGF template, as data: the figures and the rapporteur's text by section, what the Markdown says (admin token or a moderator's).",
            Body::Json("IgfReport"),
        ),
        igf(
            "/api/sessions/{id}/report.igf.md",
            "igf_report_markdown",
            "The session's report in the IGF template, as Markdown (admin token or a moderator's).",
            Body::Text("text/markdown"),
        ),
        igf(
            "/api/sessions/{id}/report.igf.html",
            "igf_report_html",
            "The session's report in the IGF template, as a printable page (admin token or a moderator's).",
            Body::Text("text/html"),
        ),
        igf(
            "/api/sessions/{id}/report.igf.odt",
            "igf_report_odt",
            "The session's report in the IGF template, as an OpenDocument text file whose text is the Markdown's (admin token or a moderator's).",
            Body::Binary("application/vnd.oasis.opendocument.text"),
        ),
    ]
}
