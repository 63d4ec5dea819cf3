-- A request asked for by a Workflow Builder step, and the step's execution to complete when
-- the request is decided. One request per execution, whatever Slack retries.
CREATE TABLE workflow_steps (
    request_id   INTEGER PRIMARY KEY REFERENCES requests (id),
    execution_id TEXT NOT NULL UNIQUE
);
