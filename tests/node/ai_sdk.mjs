// The Vercel AI SDK (`ai` with `@ai-sdk/openai`) against the gateway. Its OpenAI provider speaks the
// Responses API by default (`provider(model)`) and Chat Completions with `provider.chat(model)`.
// Reads OPENAI_BASE_URL, OPENAI_API_KEY, CHAT_MODEL, EMBEDDING_MODEL; prints one JSON summary.
import { createOpenAI } from "@ai-sdk/openai";
import { embedMany, generateText, stepCountIs, streamText, tool } from "ai";
import { z } from "zod";

const { OPENAI_BASE_URL: baseURL, OPENAI_API_KEY: apiKey, CHAT_MODEL, EMBEDDING_MODEL } = process.env;
const provider = createOpenAI({ baseURL, apiKey });

async function generate(model, prompt) {
  const result = await generateText({ model, prompt, maxRetries: 0 });
  return { text: result.text, finish: result.finishReason, usage: result.usage };
}

async function stream(model, prompt) {
  const result = streamText({ model, prompt, maxRetries: 0 });
  const parts = [];
  for await (const delta of result.textStream) parts.push(delta);
  return { parts, text: parts.join(""), finish: await result.finishReason, usage: await result.usage };
}

async function toolLoop(model, { sdkDefaultStore = false } = {}) {
  const getWeather = tool({
    description: "The weather in a city.",
    inputSchema: z.object({ city: z.string() }),
    execute: async ({ city }) => `Sunny in ${city}`,
  });
  const result = await generateText({
    model,
    tools: { get_weather: getWeather },
    stopWhen: stepCountIs(3),
    prompt: "Use get_weather for Oslo",
    maxRetries: 0,
    // The gateway stores nothing: with store false the SDK sends earlier output back whole instead of
    // as an item_reference by id (it assumes OpenAI's default, store true, otherwise).
    providerOptions: sdkDefaultStore ? undefined : { openai: { store: false } },
  });
  const calls = result.steps.flatMap((step) => step.toolCalls.map((c) => ({ name: c.toolName, input: c.input })));
  const results = result.steps.flatMap((step) => step.toolResults.map((r) => r.output));
  const first = result.steps[0];
  return {
    calls,
    results,
    text: result.text,
    steps: result.steps.length,
    firstText: first.text,
    // A reasoning item counts even when the SDK shows no text for it (the gateway puts OCI's reasoning
    // in its content, not a summary, unless asked for one).
    firstReasoning: first.reasoning.length > 0,
  };
}

async function outcome(run) {
  try {
    const { steps, firstText } = await run();
    return { ok: true, steps, firstText };
  } catch (error) {
    return { ok: false, status: error.statusCode ?? null, message: error.message, body: error.responseBody ?? null };
  }
}

const prompt = "hello from the ai sdk";
const embedded = await embedMany({
  model: provider.embedding(EMBEDDING_MODEL),
  values: ["first", "second"],
  maxRetries: 0,
});

process.stdout.write(
  JSON.stringify({
    responses: {
      generate: await generate(provider(CHAT_MODEL), prompt),
      stream: await stream(provider(CHAT_MODEL), prompt),
      tools: await toolLoop(provider(CHAT_MODEL)),
      toolsDefaultStore: await outcome(() => toolLoop(provider(CHAT_MODEL), { sdkDefaultStore: true })),
    },
    chat: {
      generate: await generate(provider.chat(CHAT_MODEL), prompt),
      stream: await stream(provider.chat(CHAT_MODEL), prompt),
      tools: await toolLoop(provider.chat(CHAT_MODEL)),
    },
    embeddings: embedded.embeddings.map((vector) => vector.length),
    distinct: embedded.embeddings[0].some((value, i) => value !== embedded.embeddings[1][i]),
  }) + "\n",
);
