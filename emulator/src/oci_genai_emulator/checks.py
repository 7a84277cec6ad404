"""Model-level request rules: what a particular model refuses even in a well-formed chat request."""

from __future__ import annotations

from .catalog import Model
from .chat_input import Turn
from .errors import OciError, inference_error, openai_error
from .vendors import profile

# Recorded for GPT-5 / o-series on OCI (https://github.com/oracle/ai-optimizer issue 513).
MAX_TOKENS_REFUSED = (
    "Invalid 'maxTokens': Unsupported parameter: 'maxTokens' is not supported with this model. "
    "Use 'maxCompletionTokens' instead."
)
# Emulated without a recording: no published example of a model refusing streamOptions.
STREAM_OPTIONS_REFUSED = "Invalid parameter 'streamOptions': not supported for this model."
# Emulated without a recording: Llama's tool template needs the conversation to open with the user.
LLAMA_TOOLS_NEED_USER_FIRST = (
    "Invalid parameter 'messages': when tools are given, the first message after the SYSTEM "
    "messages must be a USER message."
)


# Emulated without a recording: a Cohere model that does not think, asked to.
THINKING_REFUSED = "Invalid parameter 'thinking': this model does not support thinking."


def check_chat(model: Model, turn: Turn) -> None:
    """Raise the error the model answers this turn with, if any."""
    if turn.thinking == "ENABLED" and not model.reasoning:
        raise inference_error(400, THINKING_REFUSED)
    if turn.stream_options and not model.accepts_stream_options:
        raise inference_error(400, STREAM_OPTIONS_REFUSED)
    if model.rejects_max_tokens and turn.max_tokens_field == "maxTokens":
        raise inference_error(400, MAX_TOKENS_REFUSED)
    if model.only_default_temperature and turn.temperature is not None and turn.temperature != 1:
        raise _unsupported_temperature(model, turn.temperature)
    if profile(model).tools_need_user_first and turn.tools and turn.first_role not in (None, "USER"):
        raise inference_error(400, LLAMA_TOOLS_NEED_USER_FIRST)


def _unsupported_temperature(model: Model, value: float) -> OciError:
    # OpenAI's own wording for reasoning models (its API answers this for o-series and GPT-5);
    # on OCI it arrives JSON-encoded inside the OCI envelope (errors.openai_error).
    message = (
        f"Unsupported value: 'temperature' does not support {value} with this model. "
        "Only the default (1) value is supported."
    )
    if profile(model).errors == "openai":
        return openai_error(message, param="temperature", code="unsupported_value")
    return inference_error(400, message)
