-- Each session's Q&A settings (`QaSettings` as JSON); the default is moderated, anonymous allowed.
ALTER TABLE sessions ADD COLUMN qa TEXT NOT NULL DEFAULT '{"moderated":true,"anonymous":true}';
