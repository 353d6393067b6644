// Traces a small agent with the unmodified LangSmith JS SDK into LANGSMITH_ENDPOINT:
// nested calls, a failing tool, an llm run with usage, a run with an attachment.
// Prints the root run id as JSON on the last line.
import { Client } from "langsmith";
import { traceable, getCurrentRunTree } from "langsmith/traceable";

const project = process.env.JS_PROJECT;
const client = new Client({
  apiUrl: process.env.LANGSMITH_ENDPOINT,
  apiKey: process.env.LANGSMITH_API_KEY,
  // JS_BATCH=0: every run is its own POST /runs and PATCH /runs/{id}
  autoBatchTracing: process.env.JS_BATCH !== "0",
});
const options = (name, run_type, extra = {}) => ({
  name, run_type, client, project_name: project, tracingEnabled: true, ...extra,
});

const retrieve = traceable(
  async (question) => ({ docs: [`localtrace keeps traces of: ${question}`] }),
  options("retrieve", "retriever"),
);
const chat = traceable(
  async (question, docs) => ({
    content: "42",
    usage_metadata: { input_tokens: 120, output_tokens: 30, total_tokens: 150 },
  }),
  options("chat_model", "llm", { metadata: { ls_provider: "openai", ls_model_name: "gpt-4o-mini" } }),
);
const brokenTool = traceable(async () => {
  throw new Error("web search timed out");
}, options("web_search", "tool"));
const look = traceable(
  async (attachments, question) => `looked at ${Object.keys(attachments).join(",")}`,
  options("look_at_picture", "tool", {
    extractAttachments: (attachments, question) => [attachments, { question }],
  }),
);
let rootId;
const agent = traceable(async (question) => {
  rootId = getCurrentRunTree().id;
  const { docs } = await retrieve(question);
  try {
    await brokenTool();
  } catch (error) {
    // the agent carries on without the web
  }
  await look({ picture: ["image/png", new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10])] }, question);
  const answer = await chat(question, docs);
  return { answer: answer.content };
}, options("agent", "chain"));

await agent("what is six times seven?");
await client.awaitPendingTraceBatches();
console.log(JSON.stringify({ root: rootId }));
