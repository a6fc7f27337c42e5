//! The fixed lengths of what people type: questions, poll texts, stage titles and speakers,
//! callback messages, contact cards and display names. The node refuses a longer text; a
//! client uses the same numbers to stop people typing past them, so both read them from
//! here (the browser through `InputLimits` in the generated `web/src/proto.gen.ts`).
//!
//! Every length counts Unicode scalar values after the text rules (PROTOCOL.md, section
//! 21). Chat is not here: its limit is a node setting that reaches clients in
//! `welcome.limits.chat_max_chars`.

/// Longest question (`qa_ask`, and a moderator's edit), in characters.
pub const QUESTION_MAX_CHARS: usize = 500;

/// Longest poll question, and longest poll option, in characters (`poll_create`).
pub const POLL_TEXT_MAX_CHARS: usize = 200;

/// Longest stage title, in characters (`stage_update`).
pub const STAGE_TITLE_MAX_CHARS: usize = 200;

/// Longest speaker line of a stage, in characters (`stage_update`).
pub const STAGE_SPEAKER_MAX_CHARS: usize = 120;

/// Longest message a visitor leaves a booth: a callback request's message (`booth_request`)
/// and a contact card's note, in characters.
pub const CALLBACK_NOTE_MAX_CHARS: usize = 500;

/// Longest field of a contact card other than its note (name, email, organisation, job
/// title, phone), in characters.
pub const CARD_FIELD_MAX_CHARS: usize = 200;

/// Longest display name, in a token or at guest sign-in, in characters.
pub const NAME_MAX_CHARS: usize = 64;

/// Every limit above with its snake_case name, as the generated TypeScript and PROTOCOL.md
/// (section 20) name it.
pub const ALL: &[(&str, usize)] = &[
    ("question_max_chars", QUESTION_MAX_CHARS),
    ("poll_text_max_chars", POLL_TEXT_MAX_CHARS),
    ("stage_title_max_chars", STAGE_TITLE_MAX_CHARS),
    ("stage_speaker_max_chars", STAGE_SPEAKER_MAX_CHARS),
    ("callback_note_max_chars", CALLBACK_NOTE_MAX_CHARS),
    ("card_field_max_chars", CARD_FIELD_MAX_CHARS),
    ("name_max_chars", NAME_MAX_CHARS),
];
