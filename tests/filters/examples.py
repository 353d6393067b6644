"""Every filter that LangSmith's SDK docstrings and docs show, plus the ones our docs use."""

from __future__ import annotations

SDK_EXAMPLES = [
    # langsmith Client.list_runs docstring
    'and(eq(run_type, "chain"), gt(latency, 10), gt(total_tokens, 5000))',
    'eq(name, "extractor")',
    'and(eq(feedback_key, "user_score"), eq(feedback_score, 1))',
    'and(gt(start_time, "2023-07-15T12:34:56Z"), or(neq(error, null), '
    'and(eq(feedback_key, "Correctness"), eq(feedback_score, 0.0))))',
    'and(or(has(tags, "experimental"), has(tags, "beta")), gt(latency, 2))',
    # list_examples docstring, read_thread, v2 query docstrings
    'and(not(has(metadata, \'{"foo": "bar"}\')), exists(metadata, "tenant_id"))',
    'eq(thread_id, "c0ffee00-0000-4000-8000-000000000001")',
    'and(eq(thread_id, "t-1"), eq(run_type, "llm"))',
    'eq(trace_id, "0190a1b2-c3d4-7ef0-a5b6-6ea3a82e9328")',
    'eq(status, "success")',
    'eq(status, "error")',
    'has(tags, "production")',
    'and(eq(run_type, "llm"), gt(latency, 5))',
    'eq(feedback_key, "correctness")',
    "eq(name, 'my-project')",
]

REFERENCE_EXAMPLES = [
    # trace query syntax / export traces / filter traces docs (reference section 4)
    "and(neq(metadata_key, 'conversation_id'))",
    'in(metadata_key, ["session_id", "conversation_id", "thread_id"])',
    'gt(latency, "5s")',
    "eq(is_root, true)",
    'and(eq(is_root, true), and(eq(feedback_key, "user_score"), eq(feedback_score, 1)))',
    'and(eq(feedback_key, "star_rating"), gt(feedback_score, 4))',
    "and(eq(metadata_key, 'k'), eq(metadata_value, 'v'))",
    "and(eq(metadata_key, 'k'), neq(metadata_value, 'v'))",
    "neq(metadata_key, 'k')",
    "and(neq(metadata_key, 'k'), neq(metadata_value, 'v'))",
    "and(neq(metadata_key, 'k'), eq(metadata_value, 'v'))",
    'search("image classification")',
    'search(name, "extract")',
    'has(metadata, \'{"env": "prod"}\')',
    "eq(execution_order, 1)",
    'and(eq(input_key, "generations.message.kwargs.tool_calls.name"), eq(input_value, "Plan"))',
    'and(eq(output_key, "answer"), search(output_value, "paris"))',
    "eq(error, null)",
    "neq(error, null)",
]

OUR_EXAMPLES = [
    'gt(latency, "500ms")',
    'lt(latency, "1.5m")',
    'gte(end_time, "2024-05-01T00:00:00+02:00")',
    'lt(first_token_time, "2024-05-01")',
    "gt(total_cost, 0.01)",
    'lte(prompt_cost, "0.000001")',
    "eq(parent_run_id, null)",
    'in(run_type, ["llm", "chat_model"])',
    'search(error, "timeout")',
    'search(inputs, "weather")',
    'search(outputs, "42")',
    'eq(feedback_value, "CORRECT")',
    'and(eq(feedback_key, "label"), neq(feedback_value, "WRONG"))',
    "eq(metadata_value, 3)",
    'exists(metadata, "ls_model_name")',
    'has(metadata, "ls_provider")',
    'not(has(tags, "debug"))',
    'eq(reference_example_id, "A36092D2-4AD5-4FB4-9C0D-0DBA9A2ED836")',
    "eq(session_id, 'a36092d24ad54fb49c0d0dba9a2ed836')",
    "gt(completion_tokens, 100)",
    "lte(prompt_tokens, 1e3)",
    "neq(is_root, false)",
    "gt(execution_order, 1)",
    'search(tags, "exp")',
    'in(tags, ["a", "b"])',
    'in(id, ["a36092d2-4ad5-4fb4-9c0d-0dba9a2ed836"])',
    'eq(error, "ValueError: boom")',
    'or(eq(error, true), eq(status, "pending"))',
    'gt(name, "m")',
    'search("")',
]

ALL_EXAMPLES = SDK_EXAMPLES + REFERENCE_EXAMPLES + OUR_EXAMPLES
