'use strict';
// A local Telegram Bot API for end-to-end tests: telegram-test-api 4.2.1 listens on an internal port and this
// layer sits in front of it, fixing what breaks python-telegram-bot 22 (see
// /work/shared/notes/bot-api-emulator.md) and adding what tests need: long polling with offsets, update
// injection, a record of every bot call, fault injection (429, 500, 409 Conflict, timeout) and webhook delivery
// with the secret-token header. Two concurrent getUpdates pollers get 409 Conflict, as on Telegram.
//
//   node server.js --port 0 [--bot-username InsideSalesTestBot] [--bot-name "..."] [--watch-stdin] [--lenient]
//
// Prints one line {"port": N, "ready": true} on stdout once listening; logs go to stderr.
const http = require('http');
const TelegramServer = require('telegram-test-api');

const MAX_POLL_SECONDS = 30; // cap for getUpdates long polling (Telegram allows 50)
const NO_RESPONSE = Symbol('no response'); // the handler has already dealt with (or dropped) the socket

const args = parseArgs(process.argv.slice(2));
const log = (...parts) => console.error('[emulator]', ...parts);
// The emulator rejects promises nobody awaits (a /sendCommand without entities, a failed webhook post):
// by default Node then kills the process, and every later test fails for an unrelated reason.
process.on('unhandledRejection', (err) => log('unhandled rejection:', err));
process.on('uncaughtException', (err) => log('uncaught exception:', err));

function parseArgs(argv) {
  const opts = { port: 0, botUsername: 'InsideSalesTestBot', botName: 'Inside Sales Test Bot' };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--port') opts.port = Number(argv[++i]);
    else if (flag === '--bot-username') opts.botUsername = argv[++i];
    else if (flag === '--bot-name') opts.botName = argv[++i];
    else if (flag === '--watch-stdin') opts.watchStdin = true; // exit when the parent (pytest) goes away
    else if (flag === '--lenient') opts.lenient = true; // skip Telegram's HTML/length/button checks
    else throw new Error(`unknown argument ${flag}`);
  }
  return opts;
}

class ApiError extends Error {
  constructor(code, description) {
    super(description);
    this.code = code;
  }
}
const badRequest = (what) => new ApiError(400, `Bad Request: ${what}`);

// ---------------------------------------------------------------------------------------------------------
// Per-bot state. Everything is keyed by token so tests sharing one emulator stay isolated.

class Bot {
  constructor(token) {
    this.token = token;
    const id = Number(token.split(':')[0]); // a real token starts with the bot's id
    this.user = {
      id: Number.isSafeInteger(id) && id > 0 ? id : 666,
      is_bot: true,
      first_name: args.botName,
      username: args.botUsername,
    };
    this.queue = []; // updates not yet confirmed (getUpdates offset) or delivered (webhook)
    this.nextUpdateId = 1;
    this.lastDelivered = 0; // highest update_id getUpdates has returned: the bot may only confirm up to it
    this.waiter = null; // resolves the getUpdates request that is long polling, if any
    this.allowedUpdates = null;
    this.webhook = null; // {url, secret_token, ...} as given to setWebhook
    this.webhookError = null;
    this.pumping = false;
    this.calls = []; // every bot-side call, for /test/botCalls
    this.faults = [];
    this.commands = new Map(); // scope + language -> commands from setMyCommands
    this.chats = new Map(); // chat id -> chat as the user side sent it (the emulator forgets the type)
    this.messages = new Map(); // "chat:message" -> Message, for replies, edits and deletes
    this.userLock = Promise.resolve(); // serializes user-side sends so each gets its own update back
  }
}
const bots = new Map();
const botFor = (token) => {
  if (!bots.has(token)) bots.set(token, new Bot(token));
  return bots.get(token);
};
const globalFaults = [];
const files = new Map(); // file_id -> {data, name, mime} for uploads, served back by getFile + /file/
let callSeq = 0;

const now = () => Math.floor(Date.now() / 1000);
const msgKey = (chatId, messageId) => `${Number(chatId)}:${Number(messageId)}`;

let emulator; // the TelegramServer instance
let emulatorUrl;
// The emulator numbers messages with one global counter; share it so our messages never collide with its.
const nextMessageId = () => emulator.messageId++;

async function callEmulator(path, body) {
  const resp = await fetch(`${emulatorUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
  const text = await resp.text();
  try {
    return { status: resp.status, json: JSON.parse(text) };
  } catch {
    return { status: resp.status, json: { ok: false, description: text } };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Updates: our own queue so offset, limit, long polling, injection and webhooks behave like Telegram.

const UPDATE_MESSAGE_KINDS = [
  'message', 'edited_message', 'channel_post', 'edited_channel_post', 'business_message',
  'edited_business_message',
];

function fixDates(value) {
  // The emulator stamps messages with Date.now() (milliseconds); Telegram and PTB use seconds.
  if (Array.isArray(value)) value.forEach(fixDates);
  else if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if ((key === 'date' || key === 'edit_date') && typeof v === 'number' && v > 1e11) {
        value[key] = Math.floor(v / 1000);
      } else fixDates(v);
    }
  }
  return value;
}

function rememberMessage(bot, message) {
  delete message.botToken; // the emulator echoes the whole user-side body into the update
  message.message_id ??= nextMessageId();
  message.date ??= now();
  if (message.chat) {
    bot.chats.set(Number(message.chat.id), message.chat);
    bot.messages.set(msgKey(message.chat.id, message.message_id), message);
  }
}

function normalizeUpdate(bot, update) {
  delete update.update_id; // renumbered by enqueue()
  fixDates(update);
  for (const kind of UPDATE_MESSAGE_KINDS) if (update[kind]) rememberMessage(bot, update[kind]);
  const query = update.callback_query;
  if (query) {
    // PTB drops callback queries without chat_instance ("Error while parsing updates").
    const chatId = query.message?.chat?.id ?? query.from?.id ?? 0;
    query.chat_instance ??= String(7_000_000_000_000 + Number(chatId));
    query.id = String(query.id ?? `cb${callSeq}`);
  }
  if (update.inline_query) {
    update.inline_query.id = String(update.inline_query.id ?? `iq${callSeq}`);
    update.inline_query.offset ??= '';
  }
  return update;
}

const updateKind = (update) => Object.keys(update).find((k) => k !== 'update_id');
const isAllowed = (allowed, update) => !allowed || allowed.includes(updateKind(update));

function enqueue(bot, update) {
  update.update_id = bot.nextUpdateId++;
  bot.queue.push(update);
  bot.waiter?.('update');
  pumpWebhook(bot);
  return update;
}

// Confirms updates below `offset`, as Telegram does.
function confirm(bot, offset) {
  const shift = offset - (bot.lastDelivered + 1);
  if (shift > 0) {
    // The bot confirms ids this process never delivered: it was polling an earlier emulator process (a
    // restart). Move the undelivered updates past its offset, or they would count as already confirmed.
    for (const update of bot.queue) if (update.update_id > bot.lastDelivered) update.update_id += shift;
    bot.nextUpdateId += shift;
    bot.lastDelivered = offset - 1;
  }
  if (offset > 0) bot.queue = bot.queue.filter((update) => update.update_id >= offset);
  else if (offset < 0) bot.queue = bot.queue.slice(offset);
}

const CONFLICT_DESCRIPTION = 'Conflict: terminated by other getUpdates request; '
  + 'make sure that only one bot instance is running';

async function getUpdates(bot, p, { res }) {
  if (bot.webhook) {
    throw new ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
      + 'use deleteWebhook to delete the webhook first');
  }
  bot.waiter?.('conflict'); // Telegram ends the older of two concurrent getUpdates with 409
  if (Array.isArray(p.allowed_updates)) bot.allowedUpdates = p.allowed_updates.length ? p.allowed_updates : null;
  confirm(bot, Number(p.offset ?? 0));
  const limit = Math.min(Math.max(Number(p.limit ?? 100), 1), 100);
  const pending = () => {
    const batch = bot.queue.filter((u) => isAllowed(bot.allowedUpdates, u)).slice(0, limit);
    bot.lastDelivered = Math.max(bot.lastDelivered, batch.at(-1)?.update_id ?? 0);
    return batch;
  };
  const timeout = Math.min(Math.max(Number(p.timeout ?? 0), 0), MAX_POLL_SECONDS);
  if (pending().length || !timeout) return pending();

  let wake;
  let timer;
  const outcome = await new Promise((resolve) => {
    wake = resolve;
    bot.waiter = resolve;
    timer = setTimeout(resolve, timeout * 1000, 'timeout');
    res.on('close', () => resolve('closed')); // PTB cancelled the request (e.g. updater.stop())
  });
  clearTimeout(timer);
  if (bot.waiter === wake) bot.waiter = null; // a newer request may already be the waiter
  if (outcome === 'closed') return NO_RESPONSE; // nothing is lost: updates stay queued until confirmed
  if (outcome === 'conflict') {
    throw new ApiError(409, CONFLICT_DESCRIPTION);
  }
  return pending();
}

async function pumpWebhook(bot) {
  // The emulator's own delivery sends no secret-token header and crashes Node when the post fails, so
  // setWebhook is never forwarded to it: updates are delivered from here, in order, retried until 2xx.
  if (bot.pumping) return;
  bot.pumping = true;
  try {
    while (bot.webhook && bot.queue.length) {
      const update = bot.queue[0];
      if (!isAllowed(bot.webhook.allowed_updates, update)) { bot.queue.shift(); continue; }
      const headers = { 'content-type': 'application/json' };
      if (bot.webhook.secret_token) headers['X-Telegram-Bot-Api-Secret-Token'] = bot.webhook.secret_token;
      let error;
      try {
        const resp = await fetch(bot.webhook.url, {
          method: 'POST', headers, body: JSON.stringify(update), signal: AbortSignal.timeout(10_000),
        });
        await resp.arrayBuffer();
        if (!resp.ok) error = `Wrong response from the webhook: ${resp.status} ${resp.statusText}`;
      } catch (err) {
        error = `Connection failed: ${err.cause?.code ?? err.cause?.message ?? err.message}`;
      }
      if (!error) { if (bot.queue[0] === update) bot.queue.shift(); continue; }
      bot.webhookError = { date: now(), message: error };
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } finally {
    bot.pumping = false;
  }
}

// ---------------------------------------------------------------------------------------------------------
// What Telegram checks and the emulator does not: HTML, lengths, buttons, commands. Turning these into the
// real 400 errors catches bugs that would otherwise only show up in production.

const HTML_TAGS = {
  b: 'bold', strong: 'bold', i: 'italic', em: 'italic', u: 'underline', ins: 'underline',
  s: 'strikethrough', strike: 'strikethrough', del: 'strikethrough', 'tg-spoiler': 'spoiler',
  span: 'spoiler', a: 'text_link', code: 'code', pre: 'pre', blockquote: 'blockquote',
  'tg-emoji': 'custom_emoji',
};
const NAMED_ENTITIES = { lt: '<', gt: '>', amp: '&', quot: '"' };

function decodeEntity(name) {
  if (name[0] !== '#') return NAMED_ENTITIES[name.toLowerCase()];
  const code = name[1].toLowerCase() === 'x' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
  return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : undefined;
}

// Telegram's HTML parse mode: returns the plain text and its entities (offsets in UTF-16 units, as JS).
function parseHtml(src) {
  const cantParse = (what) => badRequest(`can't parse entities: ${what}`);
  const re = /<(\/?)([a-zA-Z][\w-]*)([^<>]*)>|&(#x[0-9a-fA-F]+|#\d+|[a-zA-Z]+);|</g;
  const entities = [];
  const open = [];
  let text = '';
  let last = 0;
  for (const m of src.matchAll(re)) {
    text += src.slice(last, m.index);
    last = m.index + m[0].length;
    const at = `at byte offset ${Buffer.byteLength(src.slice(0, m.index))}`;
    if (m[0] === '<') throw cantParse(`Unsupported start tag "" ${at}`); // an unescaped "<"
    if (m[4] !== undefined) { text += decodeEntity(m[4]) ?? m[0]; continue; }
    const [, closing, rawName, attrs] = m;
    const name = rawName.toLowerCase();
    if (closing) {
      const top = open.pop();
      if (!top) throw cantParse(`Unexpected end tag ${at}`);
      if (top.name !== name) throw cantParse(`Can't find end tag corresponding to start tag "${top.name}"`);
      if (top.type && text.length > top.offset) {
        entities.push({ type: top.type, offset: top.offset, length: text.length - top.offset, ...top.extra });
      }
      continue;
    }
    let type = HTML_TAGS[name];
    if (!type || (name === 'span' && !/class\s*=\s*["']?tg-spoiler/.test(attrs))) {
      throw cantParse(`Unsupported start tag "${name}" ${at}`);
    }
    const attr = (key) => {
      const match = new RegExp(`${key}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`).exec(attrs);
      return match ? (match[1] ?? match[2]) : undefined;
    };
    const extra = {};
    if (type === 'text_link') {
      const href = attr('href');
      if (href === undefined) type = null;
      else extra.url = href.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-zA-Z]+);/g, (e, n) => decodeEntity(n) ?? e);
    } else if (type === 'custom_emoji') extra.custom_emoji_id = attr('emoji-id');
    else if (type === 'code' && open.at(-1)?.type === 'pre') {
      // <pre><code class="language-x"> is one pre entity with a language, not two entities.
      const language = /language-([\w+#-]+)/.exec(attrs)?.[1];
      if (language) open.at(-1).extra.language = language;
      type = null;
    }
    open.push({ name, type, offset: text.length, extra });
  }
  text += src.slice(last);
  if (open.length) throw cantParse(`Can't find end tag corresponding to start tag "${open.at(-1).name}"`);
  return { text, entities: entities.sort((a, b) => a.offset - b.offset) };
}

// Text or caption as Telegram would store it, with its checks. Returns {text, entities}.
function formatText(raw, p, { limit, emptyError, longError }) {
  let text = raw ?? '';
  let entities = Array.isArray(p.entities ?? p.caption_entities) ? (p.entities ?? p.caption_entities) : [];
  if (!args.lenient && p.parse_mode?.toLowerCase() === 'html') ({ text, entities } = parseHtml(text));
  if (args.lenient) return { text, entities };
  if (emptyError && !text.trim()) throw badRequest(emptyError);
  if (text.length > limit) throw badRequest(longError);
  return { text, entities };
}

function checkMarkup(markup) {
  if (args.lenient || !markup?.inline_keyboard) return;
  for (const button of markup.inline_keyboard.flat()) {
    if (!button.text) throw badRequest('BUTTON_TEXT_EMPTY');
    const size = button.callback_data === undefined ? null : Buffer.byteLength(String(button.callback_data));
    if (size !== null && (size < 1 || size > 64)) throw badRequest('BUTTON_DATA_INVALID');
  }
}

// ---------------------------------------------------------------------------------------------------------
// Bot-side methods.

function chatFor(bot, chatId) {
  const id = Number(chatId);
  if (!Number.isSafeInteger(id)) throw badRequest('chat not found');
  if (bot.chats.has(id)) return bot.chats.get(id);
  if (id > 0) return { id, type: 'private', first_name: 'User' };
  return { id, type: String(id).startsWith('-100') ? 'supergroup' : 'group', title: 'Chat' };
}

// The parts of a sent Message that depend only on the request: reply and keyboard.
function messageExtras(bot, chat, p) {
  const extras = {};
  const reply = p.reply_parameters ?? (p.reply_to_message_id ? { message_id: p.reply_to_message_id } : null);
  if (reply) {
    const target = bot.messages.get(msgKey(reply.chat_id ?? chat.id, reply.message_id));
    if (target) {
      const { reply_to_message: _nested, ...shallow } = target; // Telegram does not nest replies further
      extras.reply_to_message = shallow;
    } else if (!args.lenient && !(reply.allow_sending_without_reply ?? p.allow_sending_without_reply)) {
      throw badRequest('message to be replied not found');
    }
  }
  checkMarkup(p.reply_markup);
  if (p.reply_markup?.inline_keyboard) extras.reply_markup = p.reply_markup; // only inline ones come back
  return extras;
}

// A Message the bot sends, without its content; validates chat, reply and keyboard before anything is stored.
function draftMessage(bot, p) {
  const chat = chatFor(bot, p.chat_id);
  return { message_id: null, from: bot.user, chat, date: now(), ...messageExtras(bot, chat, p) };
}

function saveMessage(bot, message) {
  message.message_id ??= nextMessageId();
  bot.messages.set(msgKey(message.chat.id, message.message_id), message);
  return message;
}

const newMessage = (bot, p, fields) => saveMessage(bot, { ...draftMessage(bot, p), ...fields });

const TEXT_LIMITS = { limit: 4096, emptyError: 'message text is empty', longError: 'message is too long' };
const CAPTION_LIMITS = { limit: 1024, longError: 'message caption is too long' };
// {text, entities} or {caption, caption_entities}, without an empty entity list (Telegram omits it).
function withEntities(key, { text, entities }) {
  const entitiesKey = key === 'text' ? 'entities' : 'caption_entities';
  return { [key]: text, ...(entities.length && { [entitiesKey]: entities }) };
}

async function sendMessage(bot, p) {
  const body = formatText(p.text, p, TEXT_LIMITS);
  const draft = draftMessage(bot, p); // validate before the emulator stores anything
  const { json } = await callEmulator(`/bot${bot.token}/sendMessage`, p);
  if (!json.ok) throw new ApiError(json.error_code ?? 500, json.description ?? json.message ?? 'emulator error');
  return saveMessage(bot, {
    ...draft,
    message_id: json.result.message_id,
    ...withEntities('text', body),
    ...(p.link_preview_options && { link_preview_options: p.link_preview_options }),
  });
}

function editableMessage(bot, p) {
  const message = bot.messages.get(msgKey(p.chat_id, p.message_id));
  if (!message) throw badRequest('message to edit not found');
  if (message.from?.id !== bot.user.id) throw badRequest("message can't be edited");
  return message;
}

async function editMessage(bot, p, method) {
  if (p.inline_message_id) return true; // Telegram answers true for inline messages
  const old = editableMessage(bot, p);
  checkMarkup(p.reply_markup);
  const markup = p.reply_markup?.inline_keyboard ? { reply_markup: p.reply_markup } : {};
  const { text: _t, entities: _e, caption: _c, caption_entities: _ce, reply_markup: _r, ...rest } = old;
  let content;
  if (method === 'editMessageText') {
    content = withEntities('text', formatText(p.text, p, TEXT_LIMITS));
  } else if (method === 'editMessageCaption') {
    content = withEntities('caption', formatText(p.caption, p, CAPTION_LIMITS));
  } else {
    content = { text: old.text, entities: old.entities, caption: old.caption, caption_entities: old.caption_entities };
  }
  const edited = JSON.parse(JSON.stringify({ ...rest, ...content, ...markup })); // drops undefined fields
  const comparable = (m) => JSON.stringify([m.text, m.caption, m.entities, m.caption_entities, m.reply_markup]);
  if (!args.lenient && comparable(edited) === comparable(old)) {
    throw badRequest('message is not modified: specified new message content and reply markup are exactly '
      + 'the same as a current content and reply markup of the message');
  }
  // Keep the emulator's history in step (it answers result:null, which PTB cannot use).
  if (method !== 'editMessageCaption') await callEmulator(`/bot${bot.token}/${method}`, p);
  edited.edit_date = now();
  bot.messages.set(msgKey(p.chat_id, p.message_id), edited);
  return edited;
}

async function deleteMessage(bot, p) {
  const { json } = await callEmulator(`/bot${bot.token}/deleteMessage`, p);
  // The layer takes user messages out of the emulator's queue, so it only knows the bot's own; ours
  // knows both. Telegram answers 400 (the emulator: 200 with ok:false, which PTB cannot parse).
  const key = msgKey(p.chat_id, p.message_id);
  if (!json.ok && !bot.messages.has(key)) throw badRequest('message to delete not found');
  bot.messages.delete(key);
  return true;
}

function checkCommands(commands) {
  if (args.lenient) return;
  if (!Array.isArray(commands) || commands.length > 100) throw badRequest('BOT_COMMANDS_TOO_MUCH');
  for (const { command, description } of commands) {
    if (!/^[a-z0-9_]{1,32}$/.test(command ?? '')) throw badRequest('BOT_COMMAND_INVALID');
    if (!description || description.length > 256) throw badRequest('BOT_COMMAND_DESCRIPTION_INVALID');
  }
}
const commandsKey = (p) => JSON.stringify([p.scope ?? { type: 'default' }, p.language_code ?? '']);

// A file that a send* method uploaded or referenced: stored, so getFile and /file/ can serve it back.
function fileFor(value, uploads) {
  const upload = typeof value === 'string' && value.startsWith('attach://') ? uploads[value.slice(9)] : value;
  if (upload?.data) {
    const fileId = `file${files.size + 1}_${Date.now()}`;
    files.set(fileId, upload);
    return { file_id: fileId, file_unique_id: `u${fileId}`, file_size: upload.data.length, file_name: upload.name };
  }
  const fileId = String(value);
  return { file_id: fileId, file_unique_id: `u${fileId}`, file_size: files.get(fileId)?.data.length ?? 0 };
}

const MEDIA = {
  sendPhoto: ['photo', (f) => [{ ...f, width: 320, height: 320 }]],
  sendDocument: ['document', (f) => f],
  sendAudio: ['audio', (f) => ({ ...f, duration: 0 })],
  sendVideo: ['video', (f) => ({ ...f, width: 320, height: 240, duration: 0 })],
  sendAnimation: ['animation', (f) => ({ ...f, width: 320, height: 240, duration: 0 })],
  sendVoice: ['voice', (f) => ({ ...f, duration: 0 })],
  sendVideoNote: ['video_note', (f) => ({ ...f, length: 240, duration: 0 })],
  sendSticker: ['sticker', (f) => ({
    ...f, type: 'regular', width: 512, height: 512, is_animated: false, is_video: false,
  })],
};

function sendMedia(bot, p, method, { uploads }) {
  const [field, shape] = MEDIA[method];
  const caption = p.caption === undefined ? {} : withEntities('caption', formatText(p.caption, p, CAPTION_LIMITS));
  return newMessage(bot, p, { [field]: shape(fileFor(p[field], uploads)), ...caption });
}

const METHODS = {
  getMe: (bot) => ({
    ...bot.user, can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: true,
    can_connect_to_business: false, has_main_web_app: false,
  }),
  getUpdates,
  sendMessage,
  editMessageText: (bot, p) => editMessage(bot, p, 'editMessageText'),
  editMessageReplyMarkup: (bot, p) => editMessage(bot, p, 'editMessageReplyMarkup'),
  editMessageCaption: (bot, p) => editMessage(bot, p, 'editMessageCaption'),
  deleteMessage,
  answerCallbackQuery: () => true, // the emulator answers null; Telegram answers true
  setWebhook: (bot, p) => {
    if (!p.url) return METHODS.deleteWebhook(bot, p);
    // Only ever deliver to this machine: tests must not send traffic anywhere else.
    const host = new URL(p.url).hostname;
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(host)) {
      throw badRequest('bad webhook: only 127.0.0.1 is reachable from the emulator');
    }
    if (p.drop_pending_updates) bot.queue = [];
    bot.webhook = { ...p, allowed_updates: p.allowed_updates?.length ? p.allowed_updates : null };
    bot.waiter?.('conflict');
    pumpWebhook(bot);
    return true;
  },
  deleteWebhook: (bot, p) => {
    if (p.drop_pending_updates) bot.queue = [];
    bot.webhook = null;
    return true;
  },
  getWebhookInfo: (bot) => ({
    url: bot.webhook?.url ?? '',
    has_custom_certificate: false,
    pending_update_count: bot.queue.length,
    ...(bot.webhook?.max_connections && { max_connections: bot.webhook.max_connections }),
    ...(bot.webhook?.allowed_updates && { allowed_updates: bot.webhook.allowed_updates }),
    ...(bot.webhookError && { last_error_date: bot.webhookError.date, last_error_message: bot.webhookError.message }),
  }),
  setMyCommands: (bot, p) => { checkCommands(p.commands); bot.commands.set(commandsKey(p), p.commands); return true; },
  deleteMyCommands: (bot, p) => { bot.commands.delete(commandsKey(p)); return true; },
  getMyCommands: (bot, p) => bot.commands.get(commandsKey(p)) ?? [],
  getMyName: (bot) => ({ name: bot.user.first_name }),
  getMyDescription: () => ({ description: '' }),
  getMyShortDescription: () => ({ short_description: '' }),
  getChatMenuButton: () => ({ type: 'default' }),
  answerInlineQuery: (_bot, p) => {
    if (!args.lenient && (p.results?.length ?? 0) > 50) throw badRequest('RESULTS_TOO_MUCH');
    return true;
  },
  getFile: (_bot, p) => ({ ...fileFor(p.file_id, {}), file_path: `files/${p.file_id}` }),
  copyMessage: (bot, p) => ({ message_id: newMessage(bot, p, { text: '' }).message_id }),
  sendLocation: (bot, p) => newMessage(bot, p, { location: { latitude: p.latitude, longitude: p.longitude } }),
  sendContact: (bot, p) => newMessage(bot, p, {
    contact: { phone_number: p.phone_number, first_name: p.first_name },
  }),
  sendDice: (bot, p) => newMessage(bot, p, { dice: { emoji: p.emoji ?? '🎲', value: 1 } }),
  sendMediaGroup: (bot, p, ctx) => p.media.map((media) => {
    const method = `send${media.type[0].toUpperCase()}${media.type.slice(1)}`;
    const single = {
      ...media, chat_id: p.chat_id, reply_parameters: p.reply_parameters, [MEDIA[method][0]]: media.media,
    };
    return sendMedia(bot, single, method, ctx);
  }),
};
for (const method of Object.keys(MEDIA)) METHODS[method] = (bot, p, ctx) => sendMedia(bot, p, method, ctx);
// Telegram method names are case-insensitive.
const METHODS_LOWER = new Map(Object.entries(METHODS).map(([name, fn]) => [name.toLowerCase(), fn]));

function takeFault(bot, method) {
  for (const rules of [bot.faults, globalFaults]) {
    const rule = rules.find((r) => r.method === '*' || r.method.toLowerCase() === method.toLowerCase());
    if (!rule) continue;
    if (--rule.count <= 0) rules.splice(rules.indexOf(rule), 1);
    return rule;
  }
  return null;
}

async function handleBotCall(req, res, token, method) {
  let request;
  try {
    request = await readParams(req);
  } catch (err) {
    return reply(res, err.code ?? 500, { ok: false, error_code: err.code ?? 500, description: err.message });
  }
  const { params, uploads } = request;
  if (process.env.EMULATOR_DEBUG) log(method, req.headers['content-type'] ?? '-', JSON.stringify(params));
  const bot = botFor(token);
  const call = { seq: ++callSeq, method, params, time: Date.now() / 1000, ok: false };
  bot.calls.push(call);

  const fault = takeFault(bot, method);
  if (fault) {
    call.error = `fault: ${fault.kind}`;
    if (fault.kind === '429') {
      const retryAfter = Number(fault.retry_after ?? 1);
      return reply(res, 429, {
        ok: false, error_code: 429, description: `Too Many Requests: retry after ${retryAfter}`,
        parameters: { retry_after: retryAfter },
      });
    }
    if (fault.kind === '500') {
      return reply(res, 500, { ok: false, error_code: 500, description: 'Internal Server Error' });
    }
    if (fault.kind === '409') { // what a second process polling with the same token gets (see getUpdates)
      return reply(res, 409, { ok: false, error_code: 409, description: CONFLICT_DESCRIPTION });
    }
    // 'timeout': answer nothing; drop the connection after `seconds` unless the client gave up first.
    setTimeout(() => res.destroy(), Number(fault.seconds ?? 30) * 1000).unref();
    return undefined;
  }

  try {
    const handler = METHODS_LOWER.get(method.toLowerCase()) ?? (() => true); // unknown methods: ok, true
    const result = await handler(bot, params, { uploads, res });
    if (result === NO_RESPONSE) { call.error = 'client went away'; return undefined; }
    Object.assign(call, { ok: true, result });
    return reply(res, 200, { ok: true, result });
  } catch (err) {
    const code = err instanceof ApiError ? err.code : 500;
    if (!(err instanceof ApiError)) log(`${method} failed:`, err);
    call.error = err.message;
    return reply(res, code, { ok: false, error_code: code, description: err.message });
  }
}

// ---------------------------------------------------------------------------------------------------------
// User-side routes (the test plays the user) and test routes.

// Telegram marks every /command in a text as a bot_command entity; offsets count UTF-16 units, as JS does.
function commandEntities(text) {
  return [...String(text ?? '').matchAll(/(?<![^\s])\/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{3,32})?/g)]
    .map((m) => ({ type: 'bot_command', offset: m.index, length: m[0].length }));
}

// Forwards a user-side send to the emulator, then moves the resulting update into our queue.
function userSend(path, body) {
  const token = body.botToken;
  if (!token) throw badRequest('botToken is required');
  const bot = botFor(token);
  const run = async () => {
    const { json } = await callEmulator(path, body);
    if (!json.ok) throw new ApiError(400, json.message ?? json.description ?? 'emulator refused the update');
    const { json: drained } = await callEmulator(`/bot${token}/getUpdates`, {});
    const updates = (drained.result ?? []).map((u) => enqueue(bot, normalizeUpdate(bot, u)));
    return updates.at(-1);
  };
  bot.userLock = bot.userLock.then(run, run);
  return bot.userLock;
}

const USER_ROUTES = {
  '/sendMessage': (body) => userSend('/sendMessage', { date: now(), ...body }),
  '/sendCommand': (body) => {
    // Without entities the emulator's assert rejects a promise nobody awaits, which kills Node.
    if (!Array.isArray(body.entities) || !body.entities.length) body.entities = commandEntities(body.text);
    if (!body.entities.length) throw badRequest('a command must start with "/"');
    return userSend('/sendCommand', { date: now(), ...body });
  },
  '/sendCallback': (body) => {
    if (!body.message?.message_id) throw badRequest('the callback needs the message with its message_id');
    return userSend('/sendCallback', { ...body, message: { date: now(), ...body.message } });
  },
  '/test/injectUpdate': (body) => {
    const token = body.botToken ?? body.token;
    if (!token || !body.update) throw badRequest('botToken and update are required');
    const bot = botFor(token);
    return enqueue(bot, normalizeUpdate(bot, structuredClone(body.update)));
  },
  '/test/botCalls': (body) => {
    const calls = bots.get(body.token)?.calls ?? [];
    return calls.filter((c) => (body.method ? c.method.toLowerCase() === body.method.toLowerCase()
      : body.include_get_updates || c.method.toLowerCase() !== 'getupdates') && c.seq > (body.since ?? 0));
  },
  '/test/faults': (body) => {
    const rules = (body.rules ?? []).map((r) => ({ method: '*', count: 1, ...r, kind: String(r.kind) }));
    const bad = rules.find((r) => !['429', '500', '409', 'timeout'].includes(r.kind));
    if (bad) throw badRequest(`unknown fault kind ${bad.kind}`);
    const target = body.token ? botFor(body.token).faults : globalFaults;
    target.splice(0, target.length, ...rules); // replaces the earlier rules; {rules: []} clears
    return true;
  },
  '/test/reset': (body) => {
    if (body.token) bots.delete(body.token);
    else bots.clear();
    return true;
  },
};

// ---------------------------------------------------------------------------------------------------------
// HTTP plumbing.

function reply(res, status, payload) {
  if (res.writableEnded || res.destroyed) return;
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(JSON.stringify(payload));
  res.writeHead(status, {
    'content-type': Buffer.isBuffer(payload) ? 'application/octet-stream' : 'application/json',
    'content-length': body.length,
  });
  res.end(body);
}

function parseJson(text) {
  try {
    return text ? JSON.parse(text) : {};
  } catch (err) {
    throw badRequest(`invalid JSON: ${err.message}`);
  }
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks);
}

// Free-text and id fields stay strings: PTB form-encodes strings raw and everything else as JSON, so only
// the field's type tells "123" the text from 123 the number (the same way Telegram decides).
const STRING_FIELDS = new Set([
  'text', 'caption', 'query', 'callback_query_id', 'inline_query_id', 'inline_message_id', 'next_offset',
  'switch_pm_text', 'switch_pm_parameter', 'secret_token', 'url', 'description', 'short_description',
  'name', 'title', 'file_id', 'photo', 'document', 'audio', 'video', 'voice', 'animation', 'sticker',
  'video_note', 'thumbnail', 'emoji', 'phone_number', 'first_name', 'last_name', 'address', 'question',
  'explanation', 'custom_title', 'business_connection_id', 'message_effect_id', 'payload', 'currency',
  'start_parameter', 'language_code', 'parse_mode', 'ip_address', 'action',
]);
function decodeField(key, value) {
  if (STRING_FIELDS.has(key)) return value;
  try { return JSON.parse(value); } catch { return value; }
}

function parseMultipart(buffer, boundary) {
  const parts = [];
  const delimiter = Buffer.from(`--${boundary}`);
  let pos = buffer.indexOf(delimiter);
  while (pos !== -1) {
    const start = pos + delimiter.length;
    if (buffer.subarray(start, start + 2).toString() === '--') break;
    const next = buffer.indexOf(delimiter, start);
    if (next === -1) break;
    const part = buffer.subarray(start + 2, next - 2); // strip the CRLFs around the part
    const split = part.indexOf('\r\n\r\n');
    const head = part.subarray(0, split).toString('utf8');
    parts.push({
      name: /[;\s]name="([^"]*)"/i.exec(head)?.[1],
      filename: /filename="([^"]*)"/i.exec(head)?.[1],
      mime: /content-type:\s*([^\r\n]+)/i.exec(head)?.[1],
      data: part.subarray(split + 4),
    });
    pos = next;
  }
  return parts;
}

// PTB 22 posts application/x-www-form-urlencoded (multipart/form-data when uploading files); other clients
// post JSON or use the query string. Returns {params, uploads}; uploads are the files by part name.
async function readParams(req) {
  const body = await readBody(req);
  const params = {};
  const uploads = {};
  for (const [key, value] of new URL(req.url, 'http://x').searchParams) params[key] = decodeField(key, value);
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('application/json')) Object.assign(params, parseJson(body.toString('utf8')));
  else if (type.startsWith('application/x-www-form-urlencoded')) {
    for (const [key, value] of new URLSearchParams(body.toString('utf8'))) params[key] = decodeField(key, value);
  } else if (type.startsWith('multipart/form-data')) {
    const boundary = /boundary="?([^";]+)"?/i.exec(req.headers['content-type'])?.[1];
    for (const part of parseMultipart(body, boundary)) {
      if (part.filename === undefined) {
        params[part.name] = decodeField(part.name, part.data.toString('utf8'));
      } else {
        uploads[part.name] = { data: part.data, name: part.filename, mime: part.mime };
        params[part.name] ??= `attach://${part.name}`; // a file sent as the parameter itself
      }
    }
  }
  return { params, uploads };
}

async function proxyToEmulator(req, res) {
  const body = await readBody(req);
  const resp = await fetch(`${emulatorUrl}${req.url}`, {
    method: req.method,
    headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
    body: ['GET', 'HEAD'].includes(req.method) ? undefined : body,
  });
  res.writeHead(resp.status, { 'content-type': resp.headers.get('content-type') ?? 'application/json' });
  res.end(Buffer.from(await resp.arrayBuffer()));
}

async function route(req, res) {
  const path = new URL(req.url, 'http://x').pathname;
  const botCall = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(path);
  if (botCall) return handleBotCall(req, res, decodeURIComponent(botCall[1]), botCall[2]);
  const file = /^\/file\/bot[^/]+\/files\/(.+)$/.exec(path);
  if (file) {
    const id = decodeURIComponent(file[1]);
    return reply(res, 200, files.get(id)?.data ?? Buffer.from(`file:${id}`));
  }
  if (USER_ROUTES[path] && req.method === 'POST') {
    try {
      const body = parseJson((await readBody(req)).toString('utf8'));
      return reply(res, 200, { ok: true, result: await USER_ROUTES[path](body) });
    } catch (err) {
      if (!(err instanceof ApiError)) log(`${path} failed:`, err);
      return reply(res, err.code ?? 500, { ok: false, error_code: err.code ?? 500, description: err.message });
    }
  }
  return proxyToEmulator(req, res); // /getUpdates, /getUpdatesHistory and anything else the emulator has
}

async function main() {
  emulator = new TelegramServer({ host: '127.0.0.1', storeTimeout: 24 * 3600 });
  emulator.config.port = 0; // normalizeConfig turns port 0 into 9000; we want any free port
  await emulator.start();
  emulatorUrl = `http://127.0.0.1:${emulator.server.address().port}`;

  const server = http.createServer((req, res) => {
    route(req, res).catch((err) => {
      log('request failed:', err);
      reply(res, 500, { ok: false, error_code: 500, description: `Internal Server Error: ${err.message}` });
    });
  });
  // httpx drops idle pooled connections after 5 s; Node's default of 5 s races with it and PTB then sees
  // "Server disconnected without sending a response". Let the client always be the one to close.
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve, reject) => server.once('error', reject).listen(args.port, '127.0.0.1', resolve));

  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    for (const bot of bots.values()) bot.waiter?.('closed');
    server.closeAllConnections();
    server.close();
    await emulator.stop().catch(() => {});
    process.exit(0);
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  if (args.watchStdin) process.stdin.on('end', shutdown).resume();

  process.stdout.write(`${JSON.stringify({ port: server.address().port, ready: true })}\n`);
}

main().catch((err) => {
  log('failed to start:', err);
  process.exit(1);
});
