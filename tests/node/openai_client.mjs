// The OpenAI Node SDK against the local gateway: chat, a stream, embeddings, and a refused key.
// Reads OPENAI_BASE_URL, OPENAI_API_KEY, CHAT_MODEL, EMBEDDING_MODEL; prints one JSON summary.
import OpenAI from "openai";

const { OPENAI_BASE_URL: baseURL, OPENAI_API_KEY: apiKey, CHAT_MODEL, EMBEDDING_MODEL } = process.env;
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0 });
const messages = [{ role: "user", content: "hello from node" }];

const chat = await client.chat.completions.create({ model: CHAT_MODEL, messages });

const stream = await client.chat.completions.create({ model: CHAT_MODEL, messages, stream: true });
let streamed = "";
let chunks = 0;
let streamFinish = null;
for await (const chunk of stream) {
  chunks += 1;
  streamed += chunk.choices[0]?.delta?.content ?? "";
  streamFinish = chunk.choices[0]?.finish_reason ?? streamFinish;
}

const embeddings = await client.embeddings.create({
  model: EMBEDDING_MODEL,
  input: ["first", "second"],
});

let refused = null;
try {
  await new OpenAI({ baseURL, apiKey: "sk-node-wrong-key-00000000", maxRetries: 0 }).models.list();
} catch (error) {
  refused = { status: error.status, code: error.code ?? null, name: error.constructor.name };
}

process.stdout.write(
  JSON.stringify({
    chat: {
      id: chat.id,
      model: chat.model,
      content: chat.choices[0].message.content,
      finish: chat.choices[0].finish_reason,
    },
    stream: { chunks, content: streamed, finish: streamFinish },
    embeddings: {
      count: embeddings.data.length,
      dimensions: embeddings.data.map((item) => item.embedding.length),
      model: embeddings.model,
    },
    refused,
  }) + "\n",
);
