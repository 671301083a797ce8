// Tuya's official Node SDK (@tuya/tuya-connector-nodejs) against the Tuya cloud simulator, unchanged.
//
//   node sdk_flow.mjs --endpoint http://127.0.0.1:8765 --access-id ID --secret SECRET --device-id ID [--pin 482916]
//   (or TUYA_ENDPOINT, TUYA_ACCESS_ID, TUYA_ACCESS_SECRET, TUYA_DEVICE_ID, TUYA_PIN in the environment)
//
// Runs token, device details, a password ticket, a temp password (PIN encrypted here with Node's crypto),
// get, freeze, unfreeze, delete, and a forced token expiry; the keypad is pressed through the simulator's
// world API between the steps. Prints one JSON document: {ok, steps: [...], exchanges: [...]}, where
// `exchanges` is every HTTP call the SDK made (method, path, body sent, Tuya code), to see what it does.
// Exit status 0 when every expected step succeeded.

import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { TuyaContext } from '@tuya/tuya-connector-nodejs';

function options() {
  const opts = {
    endpoint: process.env.TUYA_ENDPOINT,
    accessId: process.env.TUYA_ACCESS_ID,
    secret: process.env.TUYA_ACCESS_SECRET,
    deviceId: process.env.TUYA_DEVICE_ID,
    pin: process.env.TUYA_PIN || '482916',
  };
  const names = { '--endpoint': 'endpoint', '--access-id': 'accessId', '--secret': 'secret', '--device-id': 'deviceId', '--pin': 'pin' };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    if (!(argv[i] in names)) throw new Error(`unknown argument ${argv[i]}`);
    opts[names[argv[i]]] = argv[i + 1];
  }
  for (const key of ['endpoint', 'accessId', 'secret', 'deviceId']) {
    if (!opts[key]) throw new Error(`missing ${key}`);
  }
  opts.endpoint = opts.endpoint.replace(/\/+$/, '');
  return opts;
}

// The SDK's own axios (resolved from the SDK's folder), wrapped to record each exchange. The SDK calls
// `rpc(config)` for the token grant and `rpc.request(config)` for everything else.
function recordingRpc(exchanges, base) {
  const sdkRequire = createRequire(createRequire(import.meta.url).resolve('@tuya/tuya-connector-nodejs'));
  const axios = sdkRequire('axios');
  const send = async (config) => {
    const res = await axios.request(config);
    const url = new URL(config.url);
    exchanges.push({
      method: config.method,
      path: url.pathname.slice(new URL(base).pathname.replace(/\/$/, '').length) + url.search,
      body: config.data === undefined ? null : JSON.stringify(config.data),
      signature_headers: config.headers['Signature-Headers'] ?? null,
      success: res.data && res.data.success,
      code: res.data && res.data.code,
    });
    return res;
  };
  const rpc = (config) => send(config);
  rpc.request = send;
  return rpc;
}

// AES-256-ECB-decrypt the ticket key with the access secret -> K; AES-128-ECB/PKCS7 the PIN with K, upper hex.
export function encryptPin(pin, ticketKeyHex, accessSecret) {
  const unwrap = crypto.createDecipheriv('aes-256-ecb', Buffer.from(accessSecret, 'utf8'), null);
  const key = Buffer.concat([unwrap.update(Buffer.from(ticketKeyHex, 'hex')), unwrap.final()]);
  const cipher = crypto.createCipheriv('aes-128-ecb', key, null);
  return Buffer.concat([cipher.update(pin, 'utf8'), cipher.final()]).toString('hex').toUpperCase();
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const opts = options();
  const exchanges = [];
  const steps = [];
  const tuya = new TuyaContext({
    baseUrl: opts.endpoint,
    accessKey: opts.accessId,
    secretKey: opts.secret,
    rpc: recordingRpc(exchanges, opts.endpoint),
  });
  const device = opts.deviceId;
  const lock = `/v1.0/devices/${device}/door-lock`;

  const step = (name, reply, expect = true) => {
    steps.push({ name, success: Boolean(reply && reply.success), code: reply ? reply.code ?? null : null, expected: expect, result: reply ? reply.result ?? null : null });
    return reply;
  };
  const world = async (path, body) => {
    const res = await fetch(opts.endpoint + path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return res.json();
  };
  const press = async (name) => {
    const reply = await world(`/_sim/devices/${device}/keypad`, { code: opts.pin });
    steps.push({ name, keypad: reply });
    return reply;
  };
  const settled = async (pid) => {
    for (let i = 0; i < 200; i += 1) {
      const reply = await tuya.request({ path: `${lock}/temp-password/${pid}`, method: 'GET' });
      if (!reply.success || reply.result.delivery_status !== 1) return reply;
      await sleep(25);
    }
    throw new Error('delivery did not finish');
  };

  step('token', await tuya.client.init());
  step('device_details', await tuya.request({ path: `/v1.0/devices/${device}`, method: 'GET' }));
  // The SDK's own device helper reads /v1.0/iot-03/devices/{id}, which is not a smart-lock API.
  step('sdk_device_detail_helper', await tuya.device.detail({ device_id: device }), false);

  const ticket = step('password_ticket', await tuya.request({ path: `${lock}/password-ticket`, method: 'POST' }));
  const now = Math.floor(Date.now() / 1000);
  const created = step(
    'create_temp_password',
    await tuya.request({
      path: `${lock}/temp-password`,
      method: 'POST',
      body: {
        name: 'node sdk guest',
        password: encryptPin(opts.pin, ticket.result.ticket_key, opts.secret),
        password_type: 'ticket',
        ticket_id: ticket.result.ticket_id,
        effective_time: now - 60,
        invalid_time: now + 86400,
        type: 0,
      },
    }),
  );
  const pid = created.result.id;
  step('get_temp_password', await settled(pid));
  step('list_temp_passwords', await tuya.request({ path: `${lock}/temp-passwords`, method: 'GET', query: { valid: 'true' } }));
  await press('keypad_after_create');

  step('freeze', await tuya.request({ path: `${lock}/temp-passwords/${pid}/freeze-password`, method: 'PUT' }));
  step('get_after_freeze', await settled(pid));
  await press('keypad_after_freeze');

  step('unfreeze', await tuya.request({ path: `${lock}/temp-passwords/${pid}/unfreeze-password`, method: 'PUT' }));
  step('get_after_unfreeze', await settled(pid));
  await press('keypad_after_unfreeze');

  step('delete', await tuya.request({ path: `${lock}/temp-passwords/${pid}`, method: 'DELETE' }));
  step('get_after_delete', await settled(pid));
  await press('keypad_after_delete');

  // An expired token (1010): the SDK refreshes (old-style signature) and, if that fails, fetches a new one,
  // then repeats the call once.
  const before = exchanges.length;
  await world('/_sim/faults', { endpoint: 'device_details', kind: 'tuya_code', code: 1010, count: 1 });
  step('device_details_after_token_expiry', await tuya.request({ path: `/v1.0/devices/${device}`, method: 'GET' }));
  steps.push({ name: 'token_expiry_exchanges', exchanges: exchanges.slice(before) });

  const ok = steps.every((s) => s.expected === undefined || s.success === s.expected);
  process.stdout.write(`${JSON.stringify({ ok, pid, steps, exchanges }, null, 1)}\n`);
  process.exitCode = ok ? 0 : 1;
}

main().catch((err) => {
  process.stdout.write(`${JSON.stringify({ ok: false, error: String(err && err.stack ? err.stack : err) })}\n`);
  process.exitCode = 2;
});
