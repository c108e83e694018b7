#!/usr/bin/env python3
"""Generates bronze rows for the pipeline benchmark (bench/pipeline.sh).

Writes N rows of mixed shapes into the `inference_table` and `endpoint_usage` tables of a
Tollgate SQLite store (created beforehand by any tollgate command, which runs the migrations),
and the same rows into a DuckDB database (tables of the same names and columns), so that both
extractions start from identical bronze data. The rows are deterministic for a given seed.

Shapes (share of rows): Azure chat completions with prompt/completion filter annotations,
plain OpenAI-style completions, completions cut by the content filter, 400 `content_filter`
errors with `innererror.content_filter_result` (streamed and not), Azure chat streams with an
annotation-only first chunk and a usage chunk (or without usage), streams cut with
`finish_reason: content_filter`, llama.cpp streams without usage, cancelled and timed-out
streams, Responses objects of agents with an embedded `databricks_output.trace` (answered;
answered without `model`, which the CHAT_MODEL span's full chat completion still names; or a
caught provider error kept as a Python repr in the CHAT_MODEL span's `exception` event, plain
or wrapped as Databricks does: `{'error_code': 'BAD_REQUEST', 'message': '{"external_model_error": …}'}`),
Responses streams, 429/500/502/guardrail errors, rows whose response was not logged, and a
few corrupt responses.

Usage: pipeline_data.py --store PATH [--duckdb PATH] [--rows N] [--seed S]
"""

import argparse
import json
import os
import random
import sqlite3
import sys
import time

WORDS = """
the a an of to in for on with by from as at that this these those it its is are was were be been being
have has had do does did can could should would may might must will shall not no yes and or but if then
else when while because although however therefore thus also only just very more most less least many
much few several each every any all some other another such same different new old first last next
previous final initial current recent customer account order invoice payment refund shipment delivery
address warehouse product catalog price discount coupon subscription plan renewal cancellation policy
contract agreement clause section paragraph table column row index query database schema migration
replica cluster node service endpoint gateway request response latency throughput timeout retry backoff
token model prompt completion embedding vector search ranking filter category severity threshold
report summary analysis metric dashboard chart trend forecast quarter revenue margin cost budget
team project milestone deadline sprint backlog ticket incident outage root cause mitigation postmortem
deploy release rollback feature flag configuration environment staging production monitoring alert
log trace span event pipeline batch stream partition checkpoint offset consumer producer topic queue
user admin role permission access credential rotation audit compliance regulation privacy retention
document page chapter note draft review approval comment suggestion edit version history change
please thanks sure certainly here below above following steps option options example examples case
check verify confirm update create delete remove add list show explain describe compare summarize
translate rewrite improve fix debug test measure estimate calculate convert format parse validate
quickly carefully clearly briefly directly usually typically generally specifically approximately
important critical minor major optional required recommended expected actual available missing
""".split()

ACCENTED = ["café", "naïve", "résumé", "Zürich", "São Paulo", "Kraków", "façade", "coöperate", "→", "✓", "–", "€"]

SAFE_PROMPT = ("hate", "jailbreak", "self_harm", "sexual", "violence")
SAFE_COMPLETION = ("hate", "protected_material_code", "protected_material_text", "self_harm", "sexual", "violence")
SEVERITIES = ("safe", "safe", "safe", "safe", "safe", "safe", "low")

ENDPOINTS = [
    # name, served entity, model, kind, weight
    ("support-chat", "support-chat-azure", "gpt-4o-2024-11-20", "azure", 5),
    ("summarizer", "summarizer-azure-mini", "gpt-4o-mini-2024-07-18", "azure", 3),
    ("code-assist", "code-assist-openai", "gpt-4.1-2025-04-14", "openai", 1),
    ("local-llama", "local-llama-smollm2", "smollm2-1.7b-instruct", "llama", 1),
]
AGENT_ENDPOINTS = [("support-agent", "support-agent-v3", "support-agent"), ("ops-agent", "ops-agent-v1", "ops-agent")]

SYSTEM_PROMPTS = {}

# Shape name → weight (per thousand rows).
SHAPES = [
    ("chat_azure", 310),
    ("chat_openai", 60),
    ("chat_cut", 10),
    ("chat_blocked", 40),
    ("stream_azure", 220),
    ("stream_llama", 80),
    ("stream_blocked", 30),
    ("stream_cut", 30),
    ("stream_cancelled", 20),
    ("stream_timeout", 5),
    ("agent_ok", 60),
    ("agent_caught", 20),
    ("agent_caught_wrapped", 10),
    ("agent_unlabelled", 20),
    ("responses_stream", 30),
    ("http_error", 30),
    ("guardrail", 10),
    ("not_logged", 3),
    ("corrupt", 2),
]


def dumps(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class Generator:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.sentences = [self._sentence() for _ in range(20000)]
        for name, _, _, _, _ in ENDPOINTS + [(a, b, c, None, None) for a, b, c in AGENT_ENDPOINTS]:
            SYSTEM_PROMPTS[name] = "You are the %s assistant of Example Corp. %s" % (name, self.text(100, 300))
        self.shape_names = [name for name, _ in SHAPES]
        self.shape_cum = []
        total = 0
        for _, weight in SHAPES:
            total += weight
            self.shape_cum.append(total)
        self.endpoints = [e for e in ENDPOINTS for _ in range(e[4])]
        self.requesters = ["user%04d@example.com" % i for i in range(400)] + ["svc-batch@example.com"] * 40
        self.base_epoch = 1761436800  # 2025-10-26T00:00:00Z
        self.fingerprints = ["fp_%010x" % self.rng.getrandbits(40) for _ in range(6)]

    # -- text ------------------------------------------------------------------------------
    def _sentence(self):
        rng = self.rng
        words = rng.choices(WORDS, k=rng.randint(6, 22))
        if rng.random() < 0.08:
            words[rng.randrange(len(words))] = rng.choice(ACCENTED)
        if rng.random() < 0.1:
            i = rng.randrange(len(words))
            words[i] = '"%s"' % words[i]
        if rng.random() < 0.08:
            i = rng.randrange(len(words))
            words[i] = "`%s_%d`" % (words[i], rng.randint(1, 99))
        if rng.random() < 0.1:
            words.insert(rng.randrange(len(words)), str(rng.randint(2, 5000)))
        s = " ".join(words)
        return s[0].upper() + s[1:] + rng.choice(".....?!:")

    def text(self, low, high):
        """Paragraphs of sentences, between about low and high characters."""
        rng = self.rng
        target = rng.randint(low, high)
        parts = []
        size = 0
        while size < target:
            s = rng.choice(self.sentences)
            r = rng.random()
            if r < 0.06:
                s = "\n\n" + s
            elif r < 0.10:
                s = "\n- " + s
            parts.append(s)
            size += len(s) + 1
        return " ".join(parts)

    def ident(self, prefix, bits=96):
        return "%s%024x" % (prefix, self.rng.getrandbits(bits))

    def uuid(self):
        h = "%032x" % self.rng.getrandbits(128)
        return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])

    def request_uuid(self, epoch_ms):
        """A version 7 UUID, as Tollgate assigns request ids: the request's time in milliseconds,
        then random bits."""
        rand = self.rng.getrandbits(74)
        value = (epoch_ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | (rand >> 62) << 64 | 0b10 << 62 | (rand & ((1 << 62) - 1))
        h = "%032x" % value
        return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])

    # -- filter annotations ----------------------------------------------------------------
    def prompt_filters(self, fired=None):
        rng = self.rng
        out = {}
        for cat in SAFE_PROMPT:
            if cat == "jailbreak":
                hit = fired == "jailbreak"
                out[cat] = {"filtered": hit, "detected": hit}
            elif cat == fired:
                out[cat] = {"filtered": True, "severity": rng.choice(("medium", "high"))}
            else:
                out[cat] = {"filtered": False, "severity": rng.choice(SEVERITIES)}
        return out

    def completion_filters(self, fired=None):
        rng = self.rng
        out = {}
        for cat in SAFE_COMPLETION:
            if cat.startswith("protected_material"):
                out[cat] = {"filtered": False, "detected": False}
            elif cat == fired:
                out[cat] = {"filtered": True, "severity": rng.choice(("medium", "high"))}
            else:
                out[cat] = {"filtered": False, "severity": rng.choice(SEVERITIES)}
        return out

    # -- requests --------------------------------------------------------------------------
    def chat_request(self, endpoint, stream, include_usage=False):
        rng = self.rng
        messages = [{"role": "system", "content": SYSTEM_PROMPTS[endpoint]}]
        for _ in range(rng.choice((0, 0, 0, 0, 1, 2))):
            messages.append({"role": "user", "content": self.text(40, 200)})
            messages.append({"role": "assistant", "content": self.text(60, 260)})
        if rng.random() < 0.05:
            messages.append({"role": "user", "content": [
                {"type": "text", "text": self.text(60, 400)},
                {"type": "image_url", "image_url": {"url": "https://files.example.com/%s.png" % self.uuid()}},
            ]})
        else:
            messages.append({"role": "user", "content": self.text(40, 320)})
        body = {"model": endpoint, "messages": messages}
        if rng.random() < 0.5:
            body["temperature"] = rng.choice((0, 0.2, 0.7, 1))
        if rng.random() < 0.4:
            body["max_tokens"] = rng.choice((256, 512, 1024, 2048))
        if stream:
            body["stream"] = True
            if include_usage:
                body["stream_options"] = {"include_usage": True}
        return body

    def responses_request(self, endpoint, stream):
        rng = self.rng
        if rng.random() < 0.4:
            body = {"model": endpoint, "input": self.text(80, 500)}
        else:
            items = []
            for _ in range(rng.choice((0, 1, 1, 2))):
                items.append({"role": "user", "content": self.text(60, 250)})
                items.append({"role": "assistant", "content": self.text(80, 300)})
            items.append({"role": "user", "content": [{"type": "input_text", "text": self.text(80, 500)}]})
            body = {"model": endpoint, "input": items}
        if rng.random() < 0.5:
            body["instructions"] = SYSTEM_PROMPTS[endpoint][:300]
        if stream:
            body["stream"] = True
        return body

    @staticmethod
    def estimate_input(body):
        chars = 0
        for m in body.get("messages", []):
            c = m["content"]
            chars += len(c) if isinstance(c, str) else sum(len(p.get("text", "")) for p in c)
        inp = body.get("input")
        if isinstance(inp, str):
            chars += len(inp)
        elif isinstance(inp, list):
            for m in inp:
                c = m["content"]
                chars += len(c) if isinstance(c, str) else sum(len(p.get("text", "")) for p in c)
        return max(1, (chars + 3) // 4) + 3 * len(body.get("messages", []))

    # -- responses -------------------------------------------------------------------------
    def usage_chat(self, prompt_tokens, completion_tokens):
        rng = self.rng
        cached = rng.choice((0, 0, 0, 1024, 1280, 1536)) if prompt_tokens > 1100 else 0
        return {
            "completion_tokens": completion_tokens,
            "completion_tokens_details": {"accepted_prediction_tokens": 0, "audio_tokens": 0, "reasoning_tokens": 0, "rejected_prediction_tokens": 0},
            "prompt_tokens": prompt_tokens,
            "prompt_tokens_details": {"audio_tokens": 0, "cached_tokens": min(cached, prompt_tokens)},
            "total_tokens": prompt_tokens + completion_tokens,
        }

    def chat_completion(self, model, answer, prompt_tokens, azure, finish="stop", completion_fired=None):
        rng = self.rng
        choice = {
            "finish_reason": finish,
            "index": 0,
            "logprobs": None,
            "message": {"annotations": [], "content": answer, "refusal": None, "role": "assistant"},
        }
        if azure:
            choice = {"content_filter_results": self.completion_filters(completion_fired), **choice}
        body = {
            "choices": [choice],
            "created": self.base_epoch + rng.randrange(2592000),
            "id": self.ident("chatcmpl-"),
            "model": model,
            "object": "chat.completion",
        }
        if azure:
            body["prompt_filter_results"] = [{"prompt_index": 0, "content_filter_results": self.prompt_filters()}]
        body["system_fingerprint"] = rng.choice(self.fingerprints)
        body["usage"] = self.usage_chat(prompt_tokens, max(1, len(answer) // 4))
        return body

    def content_filter_error(self, fired):
        return {"error": {
            "message": "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. "
                       "Please modify your prompt and retry. To learn more about our content filtering policies please read "
                       "our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
            "type": None,
            "param": "prompt",
            "code": "content_filter",
            "status": 400,
            "innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result": self.prompt_filters(fired)},
        }}

    def deltas(self, answer):
        """Splits an answer into stream deltas of three to twelve words (Azure buffers tokens while it filters)."""
        rng = self.rng
        words = answer.split(" ")
        out = []
        i = 0
        while i < len(words):
            n = rng.randint(3, 12)
            piece = " ".join(words[i:i + n])
            out.append(piece if i == 0 else " " + piece)
            i += n
        return out

    def azure_stream(self, model, answer, prompt_tokens, with_usage, cut=None, stop_after=None):
        rng = self.rng
        cid = self.ident("chatcmpl-")
        created = self.base_epoch + rng.randrange(2592000)
        fp = rng.choice(self.fingerprints)
        payloads = [{"choices": [], "created": 0, "id": "", "model": "", "object": "",
                     "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": self.prompt_filters()}]}]

        def chunk(delta, finish=None, filters=None):
            c = {"delta": delta, "finish_reason": finish, "index": 0, "logprobs": None}
            c = {"content_filter_results": filters if filters is not None else {}, **c}
            return {"choices": [c], "created": created, "id": cid, "model": model, "object": "chat.completion.chunk", "system_fingerprint": fp}

        payloads.append(chunk({"content": "", "refusal": None, "role": "assistant"}))
        pieces = self.deltas(answer)
        if stop_after is not None:
            pieces = pieces[:stop_after]
        for k, piece in enumerate(pieces):
            filters = self.completion_filters() if k % 10 == 9 else None
            payloads.append(chunk({"content": piece}, filters=filters))
        if stop_after is not None:
            return payloads
        if cut:
            payloads.append(chunk({}, "content_filter", self.completion_filters(cut)))
            return payloads
        payloads.append(chunk({}, "stop", self.completion_filters()))
        if with_usage:
            payloads.append({"choices": [], "created": created, "id": cid, "model": model, "object": "chat.completion.chunk",
                             "system_fingerprint": fp, "usage": self.usage_chat(prompt_tokens, max(1, len(answer) // 4))})
        return payloads

    def llama_stream(self, model, answer):
        rng = self.rng
        cid = "chatcmpl-%s" % "".join(rng.choices("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", k=32))
        created = self.base_epoch + rng.randrange(2592000)
        payloads = []
        for k, piece in enumerate(self.deltas(answer)):
            delta = {"role": "assistant", "content": piece} if k == 0 else {"content": piece}
            payloads.append({"choices": [{"finish_reason": None, "index": 0, "delta": delta}], "created": created, "id": cid,
                             "model": model, "system_fingerprint": "b4719-8d2e6b5c", "object": "chat.completion.chunk"})
        payloads.append({"choices": [{"finish_reason": "stop", "index": 0, "delta": {}}], "created": created, "id": cid, "model": model,
                         "system_fingerprint": "b4719-8d2e6b5c", "object": "chat.completion.chunk",
                         "timings": {"prompt_n": rng.randint(20, 900), "prompt_ms": round(rng.uniform(20, 900), 3),
                                     "predicted_n": len(answer) // 4, "predicted_ms": round(rng.uniform(200, 9000), 3)}})
        return payloads

    def span(self, trace_id, name, span_type, start, ok=True, outputs=None, events=None, inputs=None):
        rng = self.rng
        attributes = {"mlflow.traceRequestId": '"%s"' % trace_id, "mlflow.spanType": '"%s"' % span_type}
        if inputs is not None:
            attributes["mlflow.spanInputs"] = inputs
        if outputs is not None:
            attributes["mlflow.spanOutputs"] = outputs
        end = start + rng.randint(5_000_000, 900_000_000)
        return {
            "name": name,
            "context": {"span_id": "%016x" % rng.getrandbits(64), "trace_id": "%032x" % rng.getrandbits(128)},
            "parent_id": None,
            "start_time": start,
            "end_time": end,
            "status_code": "OK" if ok else "ERROR",
            "status": {"code": "STATUS_CODE_OK" if ok else "STATUS_CODE_ERROR", "message": "" if ok else "BadRequestError"},
            "attributes": attributes,
            "events": events or [],
        }

    def agent_response(self, agent, model, answer, prompt_tokens, caught_fired=None, usage_in_response=True, wrapped=False, labelled=True):
        rng = self.rng
        trace_id = "tr-%032x" % rng.getrandbits(128)
        start = (self.base_epoch + rng.randrange(2592000)) * 1_000_000_000
        out_tokens = 0 if caught_fired else max(1, len(answer) // 4)
        spans = [self.span(trace_id, "predict", "AGENT", start, outputs=dumps({"output_text": answer[:200]}))]
        if caught_fired:
            err = self.content_filter_error(caught_fired)
            if wrapped:
                # Databricks' envelope around the provider's error: a JSON string in a dict repr.
                err["error"]["message"] = "The response was filtered due to the prompt triggering Azure OpenAI content management policy."
                err = {"error_code": "BAD_REQUEST", "message": dumps({"external_model_provider": "openai", "external_model_error": err})}
            message = "Error code: 400 - %r" % (err,)
            spans.append(self.span(trace_id, "Completions", "CHAT_MODEL", start + 1000, ok=False, events=[{
                "name": "exception", "timestamp": start + 2000,
                "attributes": {"exception.type": "BadRequestError", "exception.message": message,
                               "exception.stacktrace": "Traceback (most recent call last):\n  File \"agent.py\", line 88, in predict\nopenai.BadRequestError",
                               "exception.escaped": "False"}}]))
        else:
            if rng.random() < 0.5:
                spans.append(self.span(trace_id, "lookup_order", "TOOL", start + 500, inputs=dumps({"order_id": rng.randint(10000, 99999)}),
                                       outputs=dumps({"status": rng.choice(("shipped", "pending", "delivered"))})))
            completion = {"id": self.ident("chatcmpl-"), "object": "chat.completion", "model": model,
                          "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": self.prompt_filters()}],
                          "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": answer[:300]},
                                       "content_filter_results": self.completion_filters()}],
                          "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": out_tokens, "total_tokens": prompt_tokens + out_tokens}}
            spans.append(self.span(trace_id, "Completions", "CHAT_MODEL", start + 1000, outputs=dumps(completion)))
        usage_meta = dumps({"input_tokens": prompt_tokens, "output_tokens": out_tokens, "total_tokens": prompt_tokens + out_tokens}).replace(",", ", ").replace(":", ": ")
        trace = {"info": {"trace_id": trace_id, "request_time": "2025-11-01T00:00:00Z", "execution_duration": "%dms" % rng.randint(300, 9000),
                          "state": "OK", "trace_metadata": {"mlflow.trace.tokenUsage": usage_meta, "mlflow.source.name": agent},
                          "tags": {"mlflow.traceName": "predict"}},
                 "data": {"spans": spans}}
        body = {
            "id": "resp_%032x" % rng.getrandbits(128),
            "object": "response",
            "created_at": self.base_epoch + rng.randrange(2592000),
            "status": "completed",
            "model": agent,
            "output": [{"type": "message", "id": "msg_%024x" % rng.getrandbits(96), "status": "completed", "role": "assistant",
                        "content": [{"type": "output_text", "text": answer, "annotations": []}]}],
        }
        if usage_in_response and not caught_fired:
            body["usage"] = {"input_tokens": prompt_tokens, "output_tokens": out_tokens, "total_tokens": prompt_tokens + out_tokens,
                             "input_tokens_details": {"cached_tokens": 0}, "output_tokens_details": {"reasoning_tokens": 0}}
        if not labelled:
            del body["model"]  # the CHAT_MODEL span's outputs still name it
        body["databricks_output"] = {"trace": trace}
        return body, trace_id

    def responses_stream(self, agent, answer, prompt_tokens):
        rng = self.rng
        rid = "resp_%032x" % rng.getrandbits(128)
        mid = "msg_%024x" % rng.getrandbits(96)
        created = self.base_epoch + rng.randrange(2592000)
        events = [{"type": "response.created", "sequence_number": 0,
                   "response": {"id": rid, "object": "response", "created_at": created, "status": "in_progress", "model": agent, "output": []}}]
        for k, piece in enumerate(self.deltas(answer)):
            events.append({"type": "response.output_text.delta", "sequence_number": k + 1, "item_id": mid, "output_index": 0,
                           "content_index": 0, "delta": piece})
        out_tokens = max(1, len(answer) // 4)
        events.append({"type": "response.completed", "sequence_number": len(events),
                       "response": {"id": rid, "object": "response", "created_at": created, "status": "completed", "model": agent,
                                    "output": [{"type": "message", "id": mid, "status": "completed", "role": "assistant",
                                                "content": [{"type": "output_text", "text": answer, "annotations": []}]}],
                                    "usage": {"input_tokens": prompt_tokens, "output_tokens": out_tokens, "total_tokens": prompt_tokens + out_tokens}}})
        return events

    # -- one row -----------------------------------------------------------------------------
    def row(self, index):
        rng = self.rng
        r = rng.randrange(self.shape_cum[-1])
        shape = self.shape_names[next(i for i, c in enumerate(self.shape_cum) if r < c)]
        seconds = self.base_epoch + (index * 2592000) // max(1, self.total) + rng.randrange(60)
        ms = rng.randrange(1000)
        tm = time.gmtime(seconds)
        request_time = "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms)
        endpoint, entity, model, kind, _ = rng.choice(self.endpoints)
        if shape == "stream_llama":
            endpoint, entity, model, kind = "local-llama", "local-llama-smollm2", "smollm2-1.7b-instruct", "llama"
        elif shape in ("chat_azure", "chat_cut", "chat_blocked", "stream_azure", "stream_blocked", "stream_cut") and kind != "azure":
            endpoint, entity, model, kind = "support-chat", "support-chat-azure", "gpt-4o-2024-11-20", "azure"
        elif shape == "chat_openai":
            endpoint, entity, model, kind = "code-assist", "code-assist-openai", "gpt-4.1-2025-04-14", "openai"
        api = "chat"
        stream = 0
        status = 200
        stream_end = None
        response = None
        codes = "[]"
        trace_id = None
        ttft = None
        duration = rng.randint(250, 9000)
        usage = None  # (input, output, source)

        if shape in ("agent_ok", "agent_caught", "agent_caught_wrapped", "agent_unlabelled", "responses_stream"):
            endpoint, entity, model = rng.choice(AGENT_ENDPOINTS)
            api = rng.choice(("responses", "responses", "invocations"))

        if api == "chat":
            include_usage = shape == "stream_azure" and rng.random() < 0.8
            request = self.chat_request(endpoint, shape.startswith("stream"), include_usage)
        else:
            request = self.responses_request(endpoint, shape == "responses_stream")
        prompt_tokens = self.estimate_input(request)

        if shape == "chat_azure" or shape == "chat_openai":
            answer = self.text(100, 850)
            response = dumps(self.chat_completion(model, answer, prompt_tokens, shape == "chat_azure"))
            usage = (prompt_tokens, max(1, len(answer) // 4), "reported")
        elif shape == "chat_cut":
            answer = self.text(100, 800)
            response = dumps(self.chat_completion(model, answer, prompt_tokens, True, "content_filter", rng.choice(("violence", "hate", "sexual"))))
            usage = (prompt_tokens, max(1, len(answer) // 4), "reported")
        elif shape == "chat_blocked":
            status = 400
            duration = rng.randint(40, 400)
            response = dumps(self.content_filter_error(rng.choice(("violence", "hate", "self_harm", "sexual", "jailbreak"))))
            usage = (prompt_tokens, 0, "estimated")
        elif shape == "stream_azure":
            stream, stream_end = 1, "done"
            answer = self.text(60, 420)
            with_usage = "stream_options" in request
            response = dumps(self.azure_stream(model, answer, prompt_tokens, with_usage))
            out = max(1, len(answer) // 4)
            usage = (prompt_tokens, out, "reported" if with_usage else "estimated")
            ttft = rng.randint(80, 900)
        elif shape == "stream_llama":
            stream, stream_end = 1, "done"
            answer = self.text(60, 420)
            response = dumps(self.llama_stream(model, answer))
            usage = (prompt_tokens, max(1, (len(answer) + 3) // 4), "estimated")
            ttft = rng.randint(150, 3000)
        elif shape == "stream_blocked":
            stream, status, stream_end = 1, 400, "upstream_error"
            duration = rng.randint(40, 400)
            response = dumps(self.content_filter_error(rng.choice(("violence", "hate", "self_harm", "sexual", "jailbreak"))))
            usage = (prompt_tokens, 0, "estimated")
        elif shape == "stream_cut":
            stream, stream_end = 1, "done"
            answer = self.text(80, 400)
            response = dumps(self.azure_stream(model, answer, prompt_tokens, False, cut=rng.choice(("violence", "hate", "sexual"))))
            usage = (prompt_tokens, max(1, len(answer) // 4), "estimated")
            ttft = rng.randint(80, 900)
        elif shape == "stream_cancelled":
            stream, stream_end = 1, "client_cancelled"
            answer = self.text(200, 900)
            response = dumps(self.azure_stream(model, answer, prompt_tokens, False, stop_after=rng.randint(1, 12)))
            usage = (prompt_tokens, rng.randint(1, 40), "estimated")
            ttft = rng.randint(80, 900)
        elif shape == "stream_timeout":
            stream, stream_end = 1, "timeout"
            answer = self.text(100, 400)
            payloads = self.azure_stream(model, answer, prompt_tokens, False, stop_after=rng.randint(0, 6))
            payloads.append({"error": {"message": "The upstream sent nothing for 60 s.", "type": "upstream_error", "param": None, "code": "upstream_timeout"}})
            response = dumps(payloads)
            usage = (prompt_tokens, rng.randint(0, 20), "estimated")
            duration = 60000 + rng.randint(0, 500)
        elif shape == "agent_ok":
            answer = self.text(120, 550)
            body, trace_id = self.agent_response(endpoint, "gpt-4o-2024-11-20", answer, prompt_tokens, usage_in_response=rng.random() < 0.7)
            response = dumps(body)
            usage = (prompt_tokens, max(1, len(answer) // 4), "reported")
        elif shape == "agent_unlabelled":
            answer = self.text(120, 550)
            body, trace_id = self.agent_response(endpoint, "gpt-4o-2024-11-20", answer, prompt_tokens, labelled=False)
            response = dumps(body)
            usage = (prompt_tokens, max(1, len(answer) // 4), "reported")
        elif shape in ("agent_caught", "agent_caught_wrapped"):
            answer = rng.choice(("I'm sorry, I can't help with that request.", "Sorry, I can't help with that.",
                                 "I can't assist with this request. If you need help with your account, please rephrase your question."))
            body, trace_id = self.agent_response(endpoint, "gpt-4o-2024-11-20", answer, prompt_tokens,
                                                 caught_fired=rng.choice(("violence", "hate", "self_harm", "jailbreak")),
                                                 wrapped=shape == "agent_caught_wrapped")
            response = dumps(body)
            usage = (prompt_tokens, 0, "reported")
        elif shape == "responses_stream":
            stream, stream_end = 1, "done"
            answer = self.text(80, 400)
            response = dumps(self.responses_stream(endpoint, answer, prompt_tokens))
            usage = (prompt_tokens, max(1, len(answer) // 4), "reported")
            ttft = rng.randint(200, 2000)
        elif shape == "http_error":
            kind_error = rng.randrange(4)
            if kind_error == 0:
                status = 429
                response = dumps({"error": {"code": "429", "message": "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version "
                                            "2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after %d seconds. "
                                            "Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit."
                                            % rng.randint(1, 60)}})
            elif kind_error == 1:
                status = 500
                response = dumps({"error": {"message": "The server had an error while processing your request. Sorry about that!",
                                            "type": "server_error", "param": None, "code": None}})
            elif kind_error == 2:
                status = 502
                response = dumps({"error": {"message": "The upstream answered HTTP 502 with a body that is not an error object.",
                                            "type": "upstream_error", "param": None, "code": "upstream_error", "upstream_status": 502,
                                            "upstream_body": "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"}})
            else:
                status = 504
                response = dumps({"error": {"message": "The upstream did not answer within 60 s.", "type": "upstream_error", "param": None, "code": "upstream_timeout"}})
            duration = rng.randint(5, 60000)
            usage = (prompt_tokens, 0, "estimated")
        elif shape == "guardrail":
            status = 400
            response = dumps({"error": {"message": "The request was blocked by the guardrail: %s detected in the prompt." % rng.choice(("PII", "a credential", "an unsafe topic")),
                                        "type": "guardrail", "param": None, "code": "guardrail_violation"}})
            usage = (prompt_tokens, 0, "estimated")
            duration = rng.randint(5, 80)
        elif shape == "not_logged":
            response = None
            codes = '["MAX_RESPONSE_SIZE_EXCEEDED"]'
            usage = (prompt_tokens, rng.randint(8000, 16000), "reported")
        elif shape == "corrupt":
            answer = self.text(300, 1200)
            full = dumps(self.chat_completion(model, answer, prompt_tokens, True))
            response = full[: rng.randint(20, len(full) - 20)]
            usage = (prompt_tokens, max(1, len(answer) // 4), "estimated")

        request_text = dumps(request)
        request_id = self.request_uuid(seconds * 1000 + ms)
        client_request_id = ("client-%d" % rng.randrange(10**9)) if rng.random() < 0.3 else None
        requester = rng.choice(self.requesters)
        bronze = (
            request_id, client_request_id, request_time[:10], request_time, endpoint, entity, entity + "-id",
            api, stream, status, duration, ttft, 1.0, request_text, response, stream_end, codes, requester, trace_id,
        )
        usage_row = (request_id, client_request_id, endpoint, entity, entity + "-id", requester, status, request_time,
                     usage[0], usage[1], usage[2], stream)
        return shape, bronze, usage_row


BRONZE_COLUMNS = ["request_id", "client_request_id", "request_date", "request_time", "endpoint_name", "served_entity_name",
                  "served_entity_id", "api", "stream", "status_code", "execution_duration_ms", "time_to_first_token_ms",
                  "sampling_fraction", "request", "response", "stream_end", "logging_error_codes", "requester", "trace_id"]
USAGE_COLUMNS = ["request_id", "client_request_id", "endpoint_name", "served_entity_name", "served_entity_id", "requester",
                 "status_code", "request_time", "input_token_count", "output_token_count", "token_count_source", "request_streaming"]


_worker = None


def _init_worker(seed, total):
    global _worker
    _worker = Generator(seed)
    _worker.total = total
    _worker.seed = seed


def _chunk(bounds):
    """Rows [start, end), generated from a seed of their own: the data does not depend on --jobs."""
    start, end = bounds
    gen = _worker
    gen.rng.seed(gen.seed * 1_000_003 + start)
    shapes = {}
    bronze_rows = []
    usage_rows = []
    for i in range(start, end):
        shape, bronze, usage_row = gen.row(i)
        shapes[shape] = shapes.get(shape, 0) + 1
        bronze_rows.append(bronze)
        usage_rows.append(usage_row)
    bronze_lines = "".join(dumps(dict(zip(BRONZE_COLUMNS, r))) + "\n" for r in bronze_rows)
    usage_lines = "".join(dumps(dict(zip(USAGE_COLUMNS, r))) + "\n" for r in usage_rows)
    return shapes, bronze_rows, usage_rows, bronze_lines, usage_lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--store", required=True, help="SQLite file of a Tollgate store (migrated)")
    parser.add_argument("--duckdb", help="DuckDB database file to create with the same bronze rows (omit for the SQLite store only)")
    parser.add_argument("--chunk", type=int, default=10000, help="rows per generated chunk and SQLite transaction")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="generator processes")
    args = parser.parse_args()
    if args.rows < 1 or args.chunk < 1 or args.jobs < 1:
        sys.exit("--rows, --chunk and --jobs must be positive")

    import multiprocessing

    started = time.time()
    db = sqlite3.connect(args.store, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-65536")
    existing = db.execute("SELECT COUNT(*) FROM inference_table").fetchone()[0]
    if existing:
        sys.exit("%s already holds %d bronze rows" % (args.store, existing))
    bronze_sql = "INSERT INTO inference_table (%s) VALUES (%s)" % (", ".join(BRONZE_COLUMNS), ", ".join("?" * len(BRONZE_COLUMNS)))
    usage_sql = "INSERT INTO endpoint_usage (%s) VALUES (%s)" % (", ".join(USAGE_COLUMNS), ", ".join("?" * len(USAGE_COLUMNS)))

    base = os.path.splitext(args.duckdb)[0] if args.duckdb else None
    bronze_jsonl = base + ".bronze.jsonl" if base else os.devnull
    usage_jsonl = base + ".usage.jsonl" if base else os.devnull
    shapes = {}
    bounds = [(start, min(start + args.chunk, args.rows)) for start in range(0, args.rows, args.chunk)]
    done = 0
    next_report = 200000
    with open(bronze_jsonl, "w", encoding="utf-8") as bj, open(usage_jsonl, "w", encoding="utf-8") as uj, \
            multiprocessing.Pool(args.jobs, _init_worker, (args.seed, args.rows)) as pool:
        for chunk_shapes, bronze_rows, usage_rows, bronze_lines, usage_lines in pool.imap(_chunk, bounds):
            for k, v in chunk_shapes.items():
                shapes[k] = shapes.get(k, 0) + v
            db.execute("BEGIN")
            db.executemany(bronze_sql, bronze_rows)
            db.executemany(usage_sql, usage_rows)
            db.execute("COMMIT")
            bj.write(bronze_lines)
            uj.write(usage_lines)
            done += len(bronze_rows)
            if done >= next_report or done == args.rows:
                next_report += 200000
                print("[data] %d/%d rows (%.0f s)" % (done, args.rows, time.time() - started), file=sys.stderr, flush=True)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    if not args.duckdb:
        print("rows: %d" % args.rows)
        print("shapes: " + ", ".join("%s %d" % (k, shapes[k]) for k, _ in SHAPES if k in shapes))
        print("generated in %.1f s" % (time.time() - started))
        return

    import duckdb

    if os.path.exists(args.duckdb):
        os.remove(args.duckdb)
    con = duckdb.connect(args.duckdb)
    con.execute("""
        CREATE TABLE inference_table (
            request_id VARCHAR PRIMARY KEY, client_request_id VARCHAR, request_date VARCHAR NOT NULL, request_time VARCHAR NOT NULL,
            endpoint_name VARCHAR NOT NULL, served_entity_name VARCHAR, served_entity_id VARCHAR, api VARCHAR NOT NULL,
            stream INTEGER NOT NULL, status_code INTEGER NOT NULL, execution_duration_ms BIGINT, time_to_first_token_ms BIGINT,
            sampling_fraction DOUBLE NOT NULL, request VARCHAR, response VARCHAR, stream_end VARCHAR,
            logging_error_codes VARCHAR NOT NULL, requester VARCHAR, trace_id VARCHAR)""")
    con.execute("""
        CREATE TABLE endpoint_usage (
            request_id VARCHAR PRIMARY KEY, client_request_id VARCHAR, endpoint_name VARCHAR NOT NULL, served_entity_name VARCHAR,
            served_entity_id VARCHAR, requester VARCHAR, status_code INTEGER NOT NULL, request_time VARCHAR NOT NULL,
            input_token_count BIGINT, output_token_count BIGINT, token_count_source VARCHAR, request_streaming INTEGER NOT NULL)""")

    def columns(cols, types):
        return "{" + ", ".join("'%s': '%s'" % (c, t) for c, t in zip(cols, types)) + "}"

    bronze_types = ["VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "INTEGER", "INTEGER",
                    "BIGINT", "BIGINT", "DOUBLE", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR"]
    usage_types = ["VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "INTEGER", "VARCHAR", "BIGINT", "BIGINT", "VARCHAR", "INTEGER"]
    con.execute("INSERT INTO inference_table SELECT * FROM read_json(?, format='newline_delimited', columns=%s, maximum_object_size=67108864)"
                % columns(BRONZE_COLUMNS, bronze_types), [bronze_jsonl])
    con.execute("INSERT INTO endpoint_usage SELECT * FROM read_json(?, format='newline_delimited', columns=%s)"
                % columns(USAGE_COLUMNS, usage_types), [usage_jsonl])
    duck_rows, avg_bytes, avg_payload = con.execute("""
        SELECT COUNT(*),
               AVG(strlen(request_id) + strlen(coalesce(client_request_id, '')) + strlen(request_date) + strlen(request_time)
                   + strlen(endpoint_name) + strlen(coalesce(served_entity_name, '')) + strlen(coalesce(served_entity_id, ''))
                   + strlen(api) + strlen(coalesce(request, '')) + strlen(coalesce(response, '')) + strlen(coalesce(stream_end, ''))
                   + strlen(logging_error_codes) + strlen(coalesce(requester, '')) + strlen(coalesce(trace_id, '')) + 6 * 8),
               AVG(strlen(coalesce(request, '')) + strlen(coalesce(response, '')))
        FROM inference_table""").fetchone()
    con.execute("CHECKPOINT")
    con.close()
    os.remove(bronze_jsonl)
    os.remove(usage_jsonl)
    if duck_rows != args.rows:
        sys.exit("DuckDB holds %d bronze rows, expected %d" % (duck_rows, args.rows))

    print("rows: %d" % args.rows)
    print("average bytes per bronze row: %.0f (request + response: %.0f)" % (avg_bytes, avg_payload))
    print("shapes: " + ", ".join("%s %d" % (k, shapes[k]) for k, _ in SHAPES if k in shapes))
    print("generated in %.1f s" % (time.time() - started))


if __name__ == "__main__":
    main()
