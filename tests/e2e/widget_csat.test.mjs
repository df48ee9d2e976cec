// CSAT from a stock socket.io-client widget (docs/protocol.md, CSAT_SUBMITTED): a
// rating after the chat ends is stored with the conversation; bad ratings, a running
// chat, another customer's chat and a second rating are refused and change nothing.

import { test } from "node:test";
import assert from "node:assert/strict";
import { acceptedChat, freshSwitchboard, login, request, startChat } from "./harness.mjs";

async function conversation(url, token, id) {
  const response = await fetch(`${url}/api/v1/conversations/${id}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(response.status, 200);
  return response.json();
}

test("a customer rates an ended chat once; the rating is kept with the conversation", async (t) => {
  const sb = await freshSwitchboard(t);
  const { desk, chat } = await acceptedChat(sb, "agent1");
  const running = await request(chat.socket, "CSAT_SUBMITTED", { conversationId: chat.conversationId, rating: 5 });
  assert.equal(running.code, "wrong_state", JSON.stringify(running));

  const stranger = await startChat(sb);
  const foreign = await request(stranger.socket, "CSAT_SUBMITTED", { conversationId: chat.conversationId, rating: 1 });
  assert.equal(foreign.code, "not_found", "another customer's chat is not found");

  await request(desk.socket, "endChat", { conversationId: chat.conversationId });
  await chat.events.next("CHANNEL_SESSION_ENDED");
  for (const payload of [
    { conversationId: chat.conversationId, rating: 0 },
    { conversationId: chat.conversationId, rating: 6 },
    { conversationId: chat.conversationId, rating: "5" },
    { conversationId: chat.conversationId, rating: 4.5 },
    { rating: 4 },
    { conversationId: chat.conversationId, rating: 4, comment: "x".repeat(2001) },
    { conversationId: chat.conversationId, rating: 4, extra: true },
  ]) {
    const refused = await request(chat.socket, "CSAT_SUBMITTED", payload);
    assert.equal(refused.code, "invalid_payload", JSON.stringify(payload));
  }

  const rated = await request(chat.socket, "CSAT_SUBMITTED", {
    conversationId: chat.conversationId,
    rating: 4,
    comment: "  Quick and kind  ",
  });
  assert.equal(rated.status, "ok", JSON.stringify(rated));
  const again = await request(chat.socket, "CSAT_SUBMITTED", { conversationId: chat.conversationId, rating: 1 });
  assert.equal(again.code, "already_rated");

  const admin = await login(sb.url, "admin", "admin");
  const stored = await conversation(sb.url, admin, chat.conversationId);
  assert.equal(stored.csat.rating, 4);
  assert.equal(stored.csat.comment, "Quick and kind");
  assert.equal(typeof stored.csat.submittedAt, "number");
  const other = await conversation(sb.url, admin, stranger.conversationId);
  assert.equal(other.csat, null);
});
