-- Bronze → silver → gold in DuckDB SQL: the extraction `tollgate pipeline run` performs
-- (Sources/TollgatePipeline: SilverParser, TraceEvidence, FilterAnnotations, GoldClassifier),
-- written with DuckDB's built-in json functions over the same `inference_table` and
-- `endpoint_usage` rows. Every request and response document is parsed (json_transform), as
-- are the JSON texts nested inside them (trace token usage, span outputs of model calls, and the
-- provider errors kept in `exception.message`, Python reprs included).
--
-- Writes `silver_events` (one row per request, filters as a list), `gold_requests` and
-- `gold_filter_results` (one row per request × stage × category, a category that fired anywhere
-- stays fired), and `expectation_results` (the built-in expectations of the pipeline, counted).
--
-- Differences from Tollgate, none of which matter for the generated rows: response_chars counts
-- code points (Swift counts grapheme clusters); error_body is the raw response (Tollgate
-- re-serializes the parsed body); a response that is JSON `null` counts as unparsable.

-- One `{hate: {filtered, severity}, jailbreak: {filtered, detected}, …}` object as rows of a list.
CREATE OR REPLACE TEMP MACRO filter_list(m, stage) AS
    list_transform(
        list_filter(map_entries(m), lambda e: e.value.filtered IS NOT NULL),
        lambda e: {'stage': stage, 'category': e.key, 'filtered': e.value.filtered, 'severity': e.value.severity, 'detected': e.value.detected});

-- Every annotation of one document (completion, chunk, error body, span output).
CREATE OR REPLACE TEMP MACRO doc_filters(d) AS
    list_concat(
        flatten(list_transform(coalesce(d.prompt_filter_results, d.prompt_annotations),
            lambda f: filter_list(coalesce(f.content_filter_results, f.content_filter_result), 'prompt'))),
        flatten(list_transform(d.choices,
            lambda ch: filter_list(coalesce(ch.content_filter_results, ch.content_filter_result), 'completion'))),
        filter_list(coalesce(d.error.innererror.content_filter_result, d.error.innererror.content_filter_results), 'prompt'));

CREATE OR REPLACE TEMP MACRO first_nn(l) AS list_filter(l, lambda x: x IS NOT NULL)[1];
CREATE OR REPLACE TEMP MACRO last_nn(l) AS list_filter(l, lambda x: x IS NOT NULL)[-1];

CREATE OR REPLACE TEMP MACRO has_tokens(u) AS
    coalesce(u.prompt_tokens, u.input_tokens, u.completion_tokens, u.output_tokens) IS NOT NULL;

-- A Python literal (single quotes, True/False/None) rewritten as JSON.
CREATE OR REPLACE TEMP MACRO py_to_json(s) AS
    regexp_replace(regexp_replace(regexp_replace(regexp_replace(s,
        '''([^'']*)''|"([^"]*)"', '"\1\2"', 'g'),
        '([:,\[]\s*)True\b', '\1true', 'g'),
        '([:,\[]\s*)False\b', '\1false', 'g'),
        '([:,\[]\s*)None\b', '\1null', 'g');

-- The part of a message from its first `{` to its last `}` ("Error code: 400 - {...}").
CREATE OR REPLACE TEMP MACRO braced(msg) AS
    substring(msg, instr(msg, '{'), length(msg) - instr(reverse(msg), '}') + 2 - instr(msg, '{'));

-- The JSON object inside an exception message: the whole message, its braced part, or that
-- part as a Python dict repr.
-- Databricks wraps an external model's error as `{'error_code': 'BAD_REQUEST', 'message':
-- '{"external_model_provider": …, "external_model_error": {"error": {…}}}'}`: the provider's
-- error is what counts.
CREATE OR REPLACE TEMP MACRO wrapped_provider_error(msg) AS
    regexp_extract(msg, '''message'': ''(\{.*"external_model_error".*\})''', 1);

CREATE OR REPLACE TEMP MACRO embedded_json(msg) AS
    CASE
        WHEN wrapped_provider_error(msg) <> '' AND json_valid(wrapped_provider_error(msg))
            THEN json_extract(wrapped_provider_error(msg), '$.external_model_error')::VARCHAR
        WHEN starts_with(msg, '{') AND json_valid(msg) THEN msg
        WHEN instr(msg, '{') > 0 AND instr(msg, '}') > 0 THEN
            CASE WHEN json_valid(braced(msg)) THEN braced(msg) ELSE py_to_json(braced(msg)) END
    END;

CREATE OR REPLACE TABLE silver_events AS
WITH bronze AS (
    SELECT i.rowid AS source_rowid, i.*, u.input_token_count, u.output_token_count, u.token_count_source,
           i.response IS NOT NULL AND json_valid(i.response) AS response_parsed,
           i.stream = 1 AND starts_with(ltrim(i.response), '[') AS stream_array
    FROM inference_table i LEFT JOIN endpoint_usage u ON u.request_id = i.request_id
),
parsed AS (
    SELECT *,
        CASE WHEN response_parsed AND stream_array THEN json_transform(response, '[{
            "type": "VARCHAR", "delta": "VARCHAR", "model": "VARCHAR", "code": "VARCHAR", "message": "VARCHAR",
            "error": {"type": "VARCHAR", "code": "VARCHAR", "message": "VARCHAR", "upstream_body": "VARCHAR",
                      "innererror": {"content_filter_result": "MAP(VARCHAR, STRUCT(filtered BOOLEAN, severity VARCHAR, detected BOOLEAN))",
                                     "content_filter_results": "MAP(VARCHAR, STRUCT(filtered BOOLEAN, severity VARCHAR, detected BOOLEAN))"}},
            "choices": [{"delta": {"content": "VARCHAR"}, "finish_reason": "VARCHAR",
                         "content_filter_results": "MAP(VARCHAR, STRUCT(filtered BOOLEAN, severity VARCHAR, detected BOOLEAN))",
                         "content_filter_result": "MAP(VARCHAR, STRUCT(filtered BOOLEAN, severity VARCHAR, detected BOOLEAN))"}],
            "prompt_filter_results": [{"content_filter_results": "MAP(VARCHAR, STRUCT(filtered BOOLEAN, severity VARCHAR, detected BOOLEAN))",
                                       "content_filter_result": "MAP(VARCHAR, STRUCT(filtered BOOLEAN, severity VARCHAR, detected BOOLEAN))"}],
            "prompt_annotations": [{"content_filter_results": "MAP(VARCHAR, STRUCT(filtered BOOLEAN, severity VARCHAR, detected BOOLEAN))",
                                    "content_filter_result": "MAP(VARCHAR, STRUCT(filtered BOOLEAN, severity VARCHAR, detected BOOLEAN))"}],
            "usage": {"prompt_tokens": "BIGINT", "completion_tokens": "BIGINT", "input_tokens": "BIGINT", "output_tokens": "BIGINT",
                      "total_tokens": "BIGINT", "prompt_tokens_details": {"cached_tokens": "BIGINT"},
                      "input_tokens_details": {"cached_tokens": "BIGINT"}, "completion_tokens_details": {"reasoning_tokens": "BIGINT"},
                      "output_tokens_details": {"reasoning_tokens": "BIGINT"}},
            "response": {"model": "VARCHAR", "status": "VARCHAR", "incomplete_details": {"reason": "VARCHAR"},
                         "output": [{"content": [{"text": "VARCHAR"}]}],
                         "error": {"type": "VARCHAR", "code": "VARCHAR", "message": "VARCHAR"},
                         "usage": {"prompt_tokens": "BIGINT", "completion_tokens": "BIGINT", "input_tokens": "BIGINT", "output_tokens": "BIGINT",
                                   "total_tokens": "BIGINT", "prompt_tokens_details": {"cached_tokens": "BIGINT"},
                                   "input_tokens_details": {"cached_tokens": "BIGINT"}, "completion_tokens_details": {"reasoning_tokens": "BIGINT"},
                                   "output_tokens_details": {"reasoning_tokens": "BIGINT"}}},
            "databricks_output": {"trace": {
                "info": {"trace_id": "VARCHAR", "request_id": "VARCHAR", "trace_metadata": {"mlflow.trace.tokenUsage": "VARCHAR"}},
                "data": {"spans": [{"attributes": {"mlflow.spanType": "VARCHAR", "mlflow.spanOutputs": "VARCHAR"},
                                    "status": {"code": "VARCHAR"},
                                    "events": [{"name": "VARCHAR", "attributes": {"exception.message": "VARCHAR", "exception.type": "VARCHAR"}}]}]}}}
        }]') END AS chunks,
        CASE WHEN response_parsed AND NOT stream_array AND starts_with(ltrim(response), '{') THEN json_transform(response, '{
            "model": "VARCHAR", "object": "VARCHAR", "status": "VARCHAR", "incomplete_details": {"reason": "VARCHAR"},
            "error": {"type": "VARCHAR", "code": "VARCHAR", "message": "VARCHAR", "upstream_body": "VARCHAR",
                      "innererror": {"content_filter_result": "MAP(VARCHAR, STRUCT(filtered BOOLEAN, severity VARCHAR, detected BOOLEAN))",
                                     "content_filter_results": "MAP(VARCHAR, STRUCT(filtered BOOLEAN, severity VARCHAR, detected BOOLEAN))"}},
            "choices": [{"finish_reason": "VARCHAR", "message": {"content": "VARCHAR"},
                         "content_filter_results": "MAP(VARCHAR, STRUCT(filtered BOOLEAN, severity VARCHAR, detected BOOLEAN))",
                         "content_filter_result": "MAP(VARCHAR, STRUCT(filtered BOOLEAN, severity VARCHAR, detected BOOLEAN))"}],
            "prompt_filter_results": [{"content_filter_results": "MAP(VARCHAR, STRUCT(filtered BOOLEAN, severity VARCHAR, detected BOOLEAN))",
                                       "content_filter_result": "MAP(VARCHAR, STRUCT(filtered BOOLEAN, severity VARCHAR, detected BOOLEAN))"}],
            "prompt_annotations": [{"content_filter_results": "MAP(VARCHAR, STRUCT(filtered BOOLEAN, severity VARCHAR, detected BOOLEAN))",
                                    "content_filter_result": "MAP(VARCHAR, STRUCT(filtered BOOLEAN, severity VARCHAR, detected BOOLEAN))"}],
            "usage": {"prompt_tokens": "BIGINT", "completion_tokens": "BIGINT", "input_tokens": "BIGINT", "output_tokens": "BIGINT",
                      "total_tokens": "BIGINT", "prompt_tokens_details": {"cached_tokens": "BIGINT"},
                      "input_tokens_details": {"cached_tokens": "BIGINT"}, "completion_tokens_details": {"reasoning_tokens": "BIGINT"},
                      "output_tokens_details": {"reasoning_tokens": "BIGINT"}},
            "output": [{"content": [{"text": "VARCHAR"}]}],
            "databricks_output": {"trace": {
                "info": {"trace_id": "VARCHAR", "request_id": "VARCHAR", "trace_metadata": {"mlflow.trace.tokenUsage": "VARCHAR"}},
                "data": {"spans": [{"attributes": {"mlflow.spanType": "VARCHAR", "mlflow.spanOutputs": "VARCHAR"},
                                    "status": {"code": "VARCHAR"},
                                    "events": [{"name": "VARCHAR", "attributes": {"exception.message": "VARCHAR", "exception.type": "VARCHAR"}}]}]}}}
        }') END AS body,
        CASE WHEN request IS NOT NULL AND json_valid(request)
             THEN json_transform(request, '{"input": "JSON", "messages": [{"role": "VARCHAR", "content": "JSON"}]}') END AS req
    FROM bronze
),
-- What the response says: stream payloads in order, or the whole body.
response_facts AS (
    SELECT *,
        CASE
            WHEN response IS NULL THEN 'not_logged'
            WHEN NOT response_parsed OR (NOT stream_array AND body IS NULL) THEN 'unparsable'
            WHEN stream_array THEN CASE WHEN list_bool_or(list_transform(chunks, lambda p: coalesce(starts_with(p.type, 'response.'), false)))
                                        THEN 'responses_stream' ELSE 'chat_stream' END
            WHEN body.error IS NOT NULL THEN 'error'
            WHEN body.choices IS NOT NULL THEN 'chat_completion'
            WHEN body.output IS NOT NULL OR body.object = 'response' THEN 'responses'
            ELSE 'not_logged'
        END AS response_shape,
        -- the completed/incomplete/failed Responses object of a stream, or the whole Responses body
        CASE WHEN stream_array THEN last_nn(list_transform(chunks,
                 lambda p: CASE WHEN p.type IN ('response.completed', 'response.incomplete', 'response.failed') THEN p.response END)) END AS stream_final,
        CASE WHEN stream_array THEN list_filter(chunks, lambda p: p.type IS NULL AND p.error IS NULL) END AS chat_chunks,
        CASE WHEN stream_array THEN list_filter(list_transform(chunks, lambda p: p.databricks_output.trace), lambda t: t IS NOT NULL)
             WHEN body.databricks_output.trace IS NOT NULL THEN [body.databricks_output.trace] END AS traces
    FROM parsed
),
evidence AS (
    SELECT *,
        CASE
            WHEN response_shape IN ('chat_stream', 'responses_stream') THEN
                coalesce(nullif(array_to_string(list_transform(chunks, lambda p:
                    CASE WHEN p.type = 'response.output_text.delta' THEN p.delta
                         WHEN p.type IS NULL AND p.error IS NULL THEN array_to_string(list_transform(p.choices, lambda ch: ch.delta.content), '') END), ''), ''),
                    array_to_string(flatten(list_transform(stream_final.output, lambda o: list_transform(o.content, lambda x: x.text))), ''), '')
            WHEN response_shape = 'chat_completion' THEN coalesce(array_to_string(list_transform(body.choices, lambda ch: ch.message.content), ''), '')
            WHEN response_shape = 'responses' THEN coalesce(array_to_string(flatten(list_transform(body.output, lambda o: list_transform(o.content, lambda x: x.text))), ''), '')
            ELSE ''
        END AS text,
        CASE
            WHEN stream_array THEN coalesce(stream_final.model, first_nn(list_transform(chat_chunks, lambda p: nullif(p.model, ''))))
            WHEN response_shape IN ('chat_completion', 'responses') THEN body.model
        END AS model,
        CASE
            WHEN stream_array THEN coalesce(
                CASE stream_final.status
                    WHEN 'incomplete' THEN CASE WHEN stream_final.incomplete_details.reason = 'content_filter' THEN 'content_filter' ELSE 'length' END
                    WHEN 'failed' THEN 'error' END,
                last_nn(list_transform(chat_chunks, lambda p: first_nn(list_transform(p.choices, lambda ch: ch.finish_reason)))),
                CASE WHEN stream_final.status = 'completed' THEN 'stop' END)
            WHEN response_shape = 'chat_completion' THEN first_nn(list_transform(body.choices, lambda ch: ch.finish_reason))
            WHEN response_shape = 'responses' THEN CASE body.status
                WHEN 'incomplete' THEN CASE WHEN body.incomplete_details.reason = 'content_filter' THEN 'content_filter' ELSE 'length' END
                WHEN 'failed' THEN 'error'
                WHEN 'completed' THEN 'stop' END
        END AS finish_reason,
        -- usage reported in the response (the last usage of a stream)
        CASE
            WHEN stream_array THEN list_filter(list_transform(chunks, lambda p:
                CASE WHEN p.type IS NULL AND p.error IS NULL THEN p.usage
                     WHEN p.type IN ('response.completed', 'response.incomplete', 'response.failed') THEN p.response.usage END),
                lambda u: has_tokens(u))[-1]
            WHEN response_shape IN ('chat_completion', 'responses') AND has_tokens(body.usage) THEN body.usage
        END AS usage,
        CASE WHEN stream_array OR stream = 1 THEN 'stream' ELSE 'response' END AS usage_source,
        -- errors of the response, in order: {type, code, message, body}
        CASE
            WHEN stream_array THEN list_filter(list_transform(chunks, lambda p:
                CASE WHEN p.type = 'error' THEN {'type': p.type, 'code': p.code, 'message': p.message, 'body': NULL::VARCHAR}
                     WHEN p.type IS NULL AND p.error IS NOT NULL
                         THEN {'type': p.error.type, 'code': p.error.code, 'message': p.error.message, 'body': coalesce(p.error.upstream_body, to_json(p)::VARCHAR)}
                     WHEN p.type = 'response.failed' AND p.response.error IS NOT NULL
                         THEN {'type': p.response.error.type, 'code': p.response.error.code, 'message': p.response.error.message, 'body': NULL::VARCHAR} END),
                lambda e: e IS NOT NULL)
            WHEN response_shape = 'error' THEN [{'type': body.error.type, 'code': body.error.code, 'message': body.error.message,
                                                'body': coalesce(body.error.upstream_body, response)}]
            WHEN response_shape = 'unparsable' AND status_code >= 400 THEN [{'type': NULL::VARCHAR, 'code': NULL::VARCHAR, 'message': NULL::VARCHAR, 'body': left(response, 4096)}]
        END AS response_errors,
        CASE
            WHEN stream_array THEN flatten(list_transform(chunks, lambda p: CASE WHEN p.type IS NULL THEN doc_filters(p) END))
            WHEN body IS NOT NULL THEN doc_filters(body)
        END AS response_filters,
        list_filter(flatten(list_transform(traces, lambda t: t.data.spans)),
            lambda s: trim(s.attributes."mlflow.spanType", '"') IN ('CHAT_MODEL', 'LLM')) AS model_spans
    FROM response_facts
),
trace_facts AS (
    SELECT *,
        CASE WHEN len(traces) > 0 THEN len(traces[-1].data.spans) END AS span_count,
        coalesce(list_bool_or(list_transform(model_spans, lambda s:
            s.status.code IN ('STATUS_CODE_ERROR', 'ERROR') OR len(list_filter(s.events, lambda e: e.name = 'exception')) > 0)), false) AS trace_exception,
        -- outputs of traced model calls, parsed (their filter annotations are read below)
        list_transform(model_spans, lambda s:
            CASE WHEN json_valid(s.attributes."mlflow.spanOutputs") THEN json_transform(s.attributes."mlflow.spanOutputs", '{
                "model": "VARCHAR",
                "choices": [{"finish_reason": "VARCHAR", "content_filter_results": "MAP(VARCHAR, STRUCT(filtered BOOLEAN, severity VARCHAR, detected BOOLEAN))", "content_filter_result": "MAP(VARCHAR, STRUCT(filtered BOOLEAN, severity VARCHAR, detected BOOLEAN))"}],
                "prompt_filter_results": [{"content_filter_results": "MAP(VARCHAR, STRUCT(filtered BOOLEAN, severity VARCHAR, detected BOOLEAN))", "content_filter_result": "MAP(VARCHAR, STRUCT(filtered BOOLEAN, severity VARCHAR, detected BOOLEAN))"}],
                "prompt_annotations": [{"content_filter_results": "MAP(VARCHAR, STRUCT(filtered BOOLEAN, severity VARCHAR, detected BOOLEAN))", "content_filter_result": "MAP(VARCHAR, STRUCT(filtered BOOLEAN, severity VARCHAR, detected BOOLEAN))"}],
                "error": {"innererror": {"content_filter_result": "MAP(VARCHAR, STRUCT(filtered BOOLEAN, severity VARCHAR, detected BOOLEAN))", "content_filter_results": "MAP(VARCHAR, STRUCT(filtered BOOLEAN, severity VARCHAR, detected BOOLEAN))"}},
                "filter_annotations": [{
                    "choices": [{"content_filter_results": "MAP(VARCHAR, STRUCT(filtered BOOLEAN, severity VARCHAR, detected BOOLEAN))", "content_filter_result": "MAP(VARCHAR, STRUCT(filtered BOOLEAN, severity VARCHAR, detected BOOLEAN))"}],
                    "prompt_filter_results": [{"content_filter_results": "MAP(VARCHAR, STRUCT(filtered BOOLEAN, severity VARCHAR, detected BOOLEAN))", "content_filter_result": "MAP(VARCHAR, STRUCT(filtered BOOLEAN, severity VARCHAR, detected BOOLEAN))"}],
                    "prompt_annotations": [{"content_filter_results": "MAP(VARCHAR, STRUCT(filtered BOOLEAN, severity VARCHAR, detected BOOLEAN))", "content_filter_result": "MAP(VARCHAR, STRUCT(filtered BOOLEAN, severity VARCHAR, detected BOOLEAN))"}],
                    "error": {"innererror": {"content_filter_result": "MAP(VARCHAR, STRUCT(filtered BOOLEAN, severity VARCHAR, detected BOOLEAN))", "content_filter_results": "MAP(VARCHAR, STRUCT(filtered BOOLEAN, severity VARCHAR, detected BOOLEAN))"}}}]
            }') END) AS output_docs,
        -- provider errors caught by an agent: exception events of model calls and the JSON inside their message
        flatten(list_transform(model_spans, lambda s:
            list_transform(list_filter(s.events, lambda e: e.name = 'exception'), lambda e:
                {'message': coalesce(e.attributes."exception.message", ''), 'exception_type': e.attributes."exception.type",
                 'json': embedded_json(coalesce(e.attributes."exception.message", ''))}))) AS exception_texts,
        first_nn(list_transform(traces, lambda t:
            CASE WHEN json_valid(t.info.trace_metadata."mlflow.trace.tokenUsage") THEN
                json_transform(t.info.trace_metadata."mlflow.trace.tokenUsage", '{"input_tokens": "BIGINT", "output_tokens": "BIGINT", "total_tokens": "BIGINT"}') END)) AS trace_usage,
        first_nn(list_transform(traces, lambda t: coalesce(t.info.trace_id, t.info.request_id))) AS embedded_trace_id,
        -- the last user message of the request (chat `messages` or Responses `input` items)
        CASE WHEN req IS NOT NULL AND coalesce(json_type(req.input), '') <> 'VARCHAR' THEN list_filter(coalesce(req.messages,
            CASE WHEN json_type(req.input) = 'ARRAY' THEN json_transform(req.input, '[{"role": "VARCHAR", "content": "JSON"}]') END),
            lambda x: x.role = 'user')[-1] END AS last_user
    FROM evidence
),
exception_docs AS (
    SELECT *,
        list_transform(exception_texts, lambda x: {'message': x.message, 'exception_type': x.exception_type, 'json': x.json,
            'doc': CASE WHEN json_valid(x.json) THEN json_transform(x.json, '{
                "type": "VARCHAR", "code": "VARCHAR", "message": "VARCHAR",
                "innererror": {"content_filter_result": "MAP(VARCHAR, STRUCT(filtered BOOLEAN, severity VARCHAR, detected BOOLEAN))", "content_filter_results": "MAP(VARCHAR, STRUCT(filtered BOOLEAN, severity VARCHAR, detected BOOLEAN))"},
                "error": {"type": "VARCHAR", "code": "VARCHAR", "message": "VARCHAR",
                          "innererror": {"content_filter_result": "MAP(VARCHAR, STRUCT(filtered BOOLEAN, severity VARCHAR, detected BOOLEAN))", "content_filter_results": "MAP(VARCHAR, STRUCT(filtered BOOLEAN, severity VARCHAR, detected BOOLEAN))"}}}') END}) AS exceptions
    FROM trace_facts
),
resolved AS (
    SELECT *,
        list_concat(response_errors, list_transform(exceptions, lambda x:
            CASE WHEN x.doc IS NULL THEN {'type': NULL::VARCHAR, 'code': NULL::VARCHAR, 'message': x.message, 'body': NULL::VARCHAR}
                 WHEN x.doc.error IS NOT NULL THEN {'type': coalesce(x.doc.error.type, x.exception_type), 'code': x.doc.error.code, 'message': x.doc.error.message, 'body': x.json}
                 ELSE {'type': coalesce(x.doc.type, x.exception_type), 'code': x.doc.code, 'message': x.doc.message, 'body': x.json} END)) AS errors,
        list_concat(
            response_filters,
            flatten(list_transform(output_docs, lambda o: list_concat(doc_filters(o), flatten(list_transform(o.filter_annotations, lambda a: doc_filters(a)))))),
            flatten(list_transform(exceptions, lambda x:
                filter_list(coalesce(x.doc.error.innererror.content_filter_result, x.doc.error.innererror.content_filter_results,
                                     x.doc.innererror.content_filter_result, x.doc.innererror.content_filter_results), 'prompt')))) AS filters,
        CASE WHEN usage IS NOT NULL THEN usage_source
             WHEN coalesce(trace_usage.input_tokens, trace_usage.output_tokens) IS NOT NULL THEN 'trace'
             WHEN input_token_count IS NOT NULL AND output_token_count IS NOT NULL
                 THEN CASE WHEN token_count_source = 'estimated' THEN 'usage_table_estimated' ELSE 'usage_table_reported' END
        END AS token_source
    FROM exception_docs
)
SELECT
    request_id, source_rowid, request_time, coalesce(request_date, left(request_time, 10)) AS request_date, endpoint_name,
    served_entity_name, requester, client_request_id, api, stream, status_code, stream_end, execution_duration_ms,
    time_to_first_token_ms, coalesce(trace_id, embedded_trace_id) AS trace_id, response_shape,
    -- a Responses object may lack them: the model calls' outputs have them, the last call's being the answer's
    coalesce(model, last_nn(list_transform(output_docs, lambda o: o.model))) AS model, text AS response_text,
    coalesce(finish_reason, last_nn(list_transform(output_docs, lambda o: first_nn(list_transform(o.choices, lambda ch: ch.finish_reason))))) AS finish_reason,
    first_nn(list_transform(errors, lambda e: e.type)) AS error_type,
    first_nn(list_transform(errors, lambda e: e.code)) AS error_code,
    first_nn(list_transform(errors, lambda e: e.message)) AS error_message,
    first_nn(list_transform(errors, lambda e: e.body)) AS error_body,
    CASE token_source WHEN 'stream' THEN coalesce(usage.prompt_tokens, usage.input_tokens) WHEN 'response' THEN coalesce(usage.prompt_tokens, usage.input_tokens)
                      WHEN 'trace' THEN trace_usage.input_tokens ELSE input_token_count END AS input_tokens,
    CASE token_source WHEN 'stream' THEN coalesce(usage.completion_tokens, usage.output_tokens) WHEN 'response' THEN coalesce(usage.completion_tokens, usage.output_tokens)
                      WHEN 'trace' THEN trace_usage.output_tokens ELSE output_token_count END AS output_tokens,
    coalesce(CASE token_source WHEN 'stream' THEN usage.total_tokens WHEN 'response' THEN usage.total_tokens WHEN 'trace' THEN trace_usage.total_tokens END,
             CASE token_source WHEN 'stream' THEN coalesce(usage.prompt_tokens, usage.input_tokens) + coalesce(usage.completion_tokens, usage.output_tokens)
                               WHEN 'response' THEN coalesce(usage.prompt_tokens, usage.input_tokens) + coalesce(usage.completion_tokens, usage.output_tokens)
                               WHEN 'trace' THEN trace_usage.input_tokens + trace_usage.output_tokens
                               ELSE input_token_count + output_token_count END) AS total_tokens,
    coalesce(usage.prompt_tokens_details, usage.input_tokens_details).cached_tokens AS cached_tokens,
    coalesce(usage.completion_tokens_details, usage.output_tokens_details).reasoning_tokens AS reasoning_tokens,
    token_source,
    filters,
    span_count,
    trace_exception,
    CASE
        WHEN req IS NULL THEN left(coalesce(request, ''), 1000)
        WHEN json_type(req.input) = 'VARCHAR' THEN left(req.input ->> '$', 1000)
        WHEN last_user IS NULL THEN ''
        WHEN json_type(last_user.content) = 'VARCHAR' THEN left(last_user.content ->> '$', 1000)
        ELSE left(coalesce(array_to_string(json_extract_string(last_user.content, '$[*].text'), ' '), ''), 1000)
    END AS request_preview,
    list_filter([
        CASE WHEN response IS NOT NULL AND NOT response_parsed THEN 'response is not valid JSON' END,
        CASE WHEN response_parsed AND NOT stream_array AND body IS NULL THEN 'response is not a JSON object' END,
        CASE WHEN response IS NULL AND logging_error_codes LIKE '%MAX_RESPONSE_SIZE_EXCEEDED%' THEN 'response not logged: MAX_RESPONSE_SIZE_EXCEEDED' END,
        CASE WHEN response_shape = 'not_logged' AND body IS NOT NULL THEN 'response has neither choices, output nor error' END,
        CASE WHEN list_bool_or(list_transform(traces, lambda t: t.data.spans IS NULL)) THEN 'trace has no data.spans' END
    ], lambda x: x IS NOT NULL) AS parse_problems
FROM resolved;

CREATE OR REPLACE TABLE gold_requests AS
WITH classified AS (
    SELECT *,
        coalesce(list_bool_or(list_transform(filters, lambda f: f.stage = 'prompt' AND f.filtered)), false) AS prompt_fired,
        coalesce(list_bool_or(list_transform(filters, lambda f: f.stage = 'completion' AND f.filtered)), false) AS completion_fired
    FROM silver_events
),
blocked AS (
    SELECT *,
        CASE
            WHEN error_code = 'guardrail_violation' OR error_type = 'guardrail' THEN 'guardrail'
            WHEN error_code = 'content_filter' THEN CASE WHEN completion_fired AND NOT prompt_fired THEN 'content_filter' ELSE 'prompt_filter' END
            WHEN trace_exception AND prompt_fired THEN 'prompt_filter'
            WHEN finish_reason = 'content_filter' THEN 'content_filter'
        END AS blocked_by
    FROM classified
),
outcomes AS (
    SELECT *,
        CASE
            WHEN stream_end = 'client_cancelled' THEN 'cancelled'
            WHEN blocked_by IS NOT NULL THEN CASE WHEN stream = 1 AND response_text <> '' AND blocked_by = 'content_filter' THEN 'partial' ELSE 'blocked' END
            WHEN status_code >= 400 OR stream_end IN ('upstream_error', 'timeout') OR finish_reason = 'error' THEN 'error'
            ELSE 'success'
        END AS outcome
    FROM blocked
)
SELECT
    request_id, request_time, request_date, endpoint_name, served_entity_name, requester, client_request_id, api, stream, outcome,
    CASE
        WHEN stream = 0 THEN CASE outcome WHEN 'success' THEN 'predict_valid' WHEN 'blocked' THEN 'predict_blocked' WHEN 'partial' THEN 'predict_blocked' WHEN 'cancelled' THEN 'predict_cancelled' ELSE 'predict_error' END
        ELSE CASE outcome
            WHEN 'success' THEN 'stream_valid'
            WHEN 'blocked' THEN CASE WHEN response_text <> '' AND blocked_by = 'content_filter' THEN 'stream_blocked_partially' ELSE 'stream_blocked_immediately' END
            WHEN 'partial' THEN 'stream_blocked_partially'
            WHEN 'cancelled' THEN 'stream_cancelled'
            ELSE 'stream_error' END
    END AS inference_case,
    status_code, blocked_by, error_type, error_code, left(error_message, 2000) AS error_message, model, finish_reason,
    input_tokens, output_tokens, total_tokens, cached_tokens, reasoning_tokens, token_source AS token_count_source,
    execution_duration_ms, time_to_first_token_ms, left(request_preview, 1000) AS request_preview,
    left(response_text, 1000) AS response_preview, length(response_text) AS response_chars, trace_id, span_count
FROM outcomes;

CREATE OR REPLACE TABLE gold_filter_results AS
SELECT request_id, stage, category, r.filtered::INTEGER AS filtered, r.severity, r.detected::INTEGER AS detected
FROM (
    SELECT request_id, f.stage AS stage, f.category AS category,
           arg_max({'filtered': f.filtered, 'severity': f.severity, 'detected': f.detected},
                   (CASE WHEN f.filtered THEN 10 ELSE 0 END) + CASE f.severity WHEN 'low' THEN 1 WHEN 'medium' THEN 2 WHEN 'high' THEN 3 ELSE 0 END) AS r
    FROM (SELECT request_id, unnest(filters) AS f FROM silver_events WHERE len(filters) > 0)
    GROUP BY ALL
);

CREATE OR REPLACE TABLE expectation_results AS
SELECT 'stream_rows_have_stream_end' AS name, 'silver_events' AS dataset, count(*) FILTER (WHERE NOT (stream = 0 OR stream_end IS NOT NULL)) AS failed FROM silver_events
UNION ALL SELECT 'response_is_parseable', 'silver_events', count(*) FILTER (WHERE NOT (response_shape <> 'unparsable')) FROM silver_events
UNION ALL SELECT 'tokens_add_up', 'gold_requests',
    count(*) FILTER (WHERE NOT (input_tokens IS NULL OR output_tokens IS NULL OR total_tokens IS NULL OR total_tokens = input_tokens + output_tokens)) FROM gold_requests
UNION ALL SELECT 'blocked_rows_name_their_cause', 'gold_requests', count(*) FILTER (WHERE NOT (outcome NOT IN ('blocked', 'partial') OR blocked_by IS NOT NULL)) FROM gold_requests
UNION ALL SELECT 'valid_status_code', 'gold_requests', count(*) FILTER (WHERE NOT (status_code BETWEEN 100 AND 599)) FROM gold_requests;
