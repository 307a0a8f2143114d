// A room's display in a real Chromium (Debian's /usr/bin/chromium), through the real service:
// the room's one permanent link follows the programme by itself, across a switch by the clock
// (session A ends, B is on) and a chair's "end" (B ended from the chair's console, the room
// shows C as next). axe-core checks the page, the strict CSP must report nothing, and it is
// photographed at projector size into target/screenshots/. The room's pages and the event view
// are then read in French, Arabic (right to left), Chinese and Russian, at phone and projector
// size, with nothing left in English and nothing overflowing. The server and browser come from
// the shared harness.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { start, axe, shoot, ADMIN } from "./harness.mjs";

let env, base;

before(async () => {
  env = await start();
  base = env.base;
});

after(async () => {
  await env?.stop();
});

async function api(method, route, body, type = "application/json") {
  const res = await fetch(`${base}${route}`, {
    method,
    headers: { Authorization: `Bearer ${ADMIN}`, "Content-Type": type },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${route}: ${res.status} ${text}`);
  return text;
}

/** Open `url` at `size` (a harness size), the browser set to `lang`; the page. */
async function open(url, size, name, lang = "en-US", lands = undefined) {
  return (await env.open(url, size, { name, live: false, lang, lands })).page;
}

/** The page's language and direction, its title, and whether anything sticks out sideways. */
const layout = (page) => page.evaluate(() => ({
  lang: document.documentElement.lang,
  dir: document.documentElement.dir,
  title: document.title,
  overflow: document.documentElement.scrollWidth - innerWidth,
  below: document.documentElement.scrollHeight - innerHeight,
}));

test("a room's display follows its programme by the clock and by the chair's end", async () => {
  const rooms = JSON.parse(await api("PUT", "/api/rooms", { rooms: [{ name: "Plenary hall", capacity: 800 }] }));
  const display = rooms.rooms[0].display;
  assert.match(display, new RegExp(`^${base}/rooms/[0-9a-f]{32}#t=v1\\.`));

  // A is on and ends in 10 s (time for Chromium to start on a loaded machine); B follows for
  // an hour; C after B.
  const at = (ms) => new Date(ms).toISOString();
  const switchAt = Date.now() + 10000;
  const csv = ["id,title,room,start,end",
    `A,Session A,Plenary hall,${at(switchAt - 600000)},${at(switchAt)}`,
    `B,Session B,Plenary hall,${at(switchAt)},${at(switchAt + 3600000)}`,
    `C,Session C,Plenary hall,${at(switchAt + 3600000)},${at(switchAt + 7200000)}`].join("\n");
  await api("POST", "/api/programme/import", csv, "text/csv");

  const room = await open(display, "projector", "room");
  await room.locator("body[data-state=on]").waitFor();
  await room.locator("#on-title", { hasText: "Session A" }).waitFor();
  await room.locator("#next-title", { hasText: "Session B" }).waitFor();
  await room.waitForFunction(() => /^\d{6}$/.test(document.getElementById("on-code").textContent));
  assert.equal(await room.locator("#on-qr svg").count(), 1, "the join QR code");
  assert.equal(await room.locator("#room-name").textContent(), "Plenary hall");
  await axe({ page: room, name: "room" });
  await shoot({ page: room }, "room-on-projector");
  const sessionA = await room.getAttribute("body", "data-session");

  // By the clock: nobody touches the projector.
  await room.locator("#on-title", { hasText: "Session B" }).waitFor({ timeout: 16000 });
  const sessionB = await room.getAttribute("body", "data-session");
  assert.notEqual(sessionB, sessionA);
  await room.locator("#next-title", { hasText: "Session C" }).waitFor();

  // By the chair: B's chair ends the session from the console; the room moves on.
  const exported = await api("GET", "/api/programme.csv");
  const rowB = exported.split("\n").find((l) => l.startsWith("B,")).split(",");
  const chair = await open(rowB[6], "laptop", "chair");
  await chair.locator("#status[data-state=online]").waitFor();
  await chair.click("#end-session");
  await chair.click("dialog.ask button[value=ok]");
  await room.locator("body[data-state=next]").waitFor({ timeout: 8000 });
  assert.equal(await room.locator("#on").isHidden(), true);
  await room.locator("#none:not([hidden])").waitFor();
  await room.locator("#next-title", { hasText: "Session C" }).waitFor();
  await shoot({ page: room }, "room-next-projector");

  // The room's permanent poster: its QR code's link leads to the session of the moment.
  const poster = await open(`${base}/rooms/${rooms.rooms[0].id}/poster#t=${ADMIN}`, "laptop", "room-poster");
  await poster.locator("body[data-ready=true]").waitFor();
  assert.equal(await poster.locator("#poster-title").textContent(), "Plenary hall");
  assert.equal(await poster.locator("#poster-qr svg").count(), 1);
  await axe({ page: poster, name: "poster" });
  // The room's printable programme: each session with its links and join QR code.
  const printed = await open(`${base}/rooms/${rooms.rooms[0].id}/programme#t=${ADMIN}`, "laptop", "room-programme");
  await printed.locator("body[data-ready=true]").waitFor();
  assert.equal(await printed.locator("#sessions section").count(), 3);
  assert.equal(await printed.locator("#sessions section .qr svg").count(), 3);
  assert.equal(await printed.locator(`section[data-session="${sessionB}"] dd[data-role=chair]`).textContent(), rowB[6]);
  await axe({ page: printed, name: "printed" });

  const sessionC = JSON.parse(await api("GET", "/api/programme")).sessions.find((s) => s.external_id === "C").session;
  // The room's link goes on to the session of the moment (C, now B has ended).
  const phone = await open(rooms.rooms[0].join, "phone", "room-join", "en-US", new RegExp(`/s/${sessionC}/join#t=`));
  await phone.locator("#name").waitFor();
  assert.deepEqual(env.problems, []);
});

test("the event view shows rooms by time, follows a session live and hands out its links", async () => {
  await api("PUT", "/api/rooms", { rooms: [{ name: "Room A", capacity: 100 }, { name: "Room B", capacity: 60, hub: true }] });
  const csv = ["id,title,room,start,end",
    "E1,Opening of day one,Room A,2026-12-01T09:00:00Z,2026-12-01T10:00:00Z",
    "E2,Hub dialogue,Room B,2026-12-01T09:00:00Z,2026-12-01T10:00:00Z",
    "E3,Day two plenary,Room A,2026-12-02T09:00:00Z,2026-12-02T10:00:00Z"].join("\n");
  await api("POST", "/api/programme/import", csv, "text/csv");
  const exported = await api("GET", "/api/programme.csv");
  const rowE2 = exported.split("\n").find((l) => l.startsWith("E2,")).split(",");

  const ev = await open(`${base}/event#t=${ADMIN}`, "laptop", "event");
  await ev.locator("body[data-ready=true]").waitFor();
  await ev.locator("#days h2", { hasText: "December 1" }).waitFor();
  await ev.locator("#days h2", { hasText: "December 2" }).waitFor();
  const e2 = ev.locator(`td[data-session="${rowE2[5]}"]`);
  await e2.locator("strong", { hasText: "Hub dialogue" }).waitFor();

  // The chair opens the console: the session is live in the view; the chair ends it: ended.
  const chair = await open(rowE2[6], "laptop", "chair-e2");
  await chair.locator("#status[data-state=online]").waitFor();
  await ev.locator(`td[data-session="${rowE2[5]}"][data-state=live]`).waitFor({ timeout: 5000 });
  await ev.locator(`td[data-session="${rowE2[5]}"] .figures-live`, { hasText: "0 waiting" }).waitFor();
  await chair.click("#end-session");
  await chair.click("dialog.ask button[value=ok]");
  const began = Date.now();
  await ev.locator(`td[data-session="${rowE2[5]}"][data-state=ended]`).waitFor({ timeout: 5000 });
  // A 750 ms poll; the margin is for the end's own round trip on a loaded machine.
  assert.ok(Date.now() - began < 1500, "the view follows within its poll");

  // The chair's links: copy, mail, QR.
  await ev.locator(`td[data-session="${rowE2[5]}"] button`, { hasText: "Links" }).click();
  const chairInput = ev.locator(`td[data-session="${rowE2[5]}"] input[data-role=chair]`);
  await chairInput.waitFor();
  assert.equal(await chairInput.inputValue(), rowE2[6]);
  const mail = await ev.locator(`td[data-session="${rowE2[5]}"] a[data-mail]`).getAttribute("href");
  assert.ok(mail.startsWith("mailto:?subject=") && mail.includes(encodeURIComponent(rowE2[6])), mail);
  assert.equal(await ev.locator(`td[data-session="${rowE2[5]}"] .qr svg`).count(), 1);
  await axe({ page: ev, name: "ev" });
  await shoot({ page: ev }, "event-laptop");
  // A wrong token is refused, said on the page.
  const wrong = await open(`${base}/event#t=wrong`, "laptop", "event-wrong");
  await wrong.locator("#error:not([hidden])", { hasText: "admin token" }).waitFor();
  assert.deepEqual(env.problems, []);
});

test("the room's pages and the event view speak French, Arabic (right to left) and Chinese", async () => {
  const rooms = JSON.parse(await api("PUT", "/api/rooms", { rooms: [{ name: "Salle des Nations — Palais", capacity: 300, hub: true }] }));
  const room = rooms.rooms.find((r) => r.name.startsWith("Salle des Nations"));
  // One session on now, one tomorrow: the display shows the first, its room code and the next.
  const at = (ms) => new Date(ms).toISOString();
  const now = Date.now();
  const csv = ["id,title,room,start,end",
    `L1,Gouvernance de l'intelligence artificielle : quelles règles pour les pays en développement ?,Salle des Nations — Palais,${at(now - 600000)},${at(now + 3600000)}`,
    `L2,حوكمة الإنترنت والشباب,Salle des Nations — Palais,${at(now + 86400000)},${at(now + 90000000)}`].join("\n");
  await api("POST", "/api/programme/import", csv, "text/csv");
  const programme = JSON.parse(await api("GET", "/api/programme"));
  const l1 = programme.sessions.find((s) => s.external_id === "L1").session;
  const weekday = (lang) => new Intl.DateTimeFormat(lang, { weekday: "long" }).format(now + 86400000);

  // The room display in French, at projector size.
  const fr = await open(room.display, "projector", "room-fr", "fr-FR");
  await fr.locator("body[data-state=on]").waitFor();
  await fr.waitForFunction(() => /^\d{6}$/.test(document.getElementById("on-code").textContent));
  assert.deepEqual(await layout(fr), { lang: "fr", dir: "ltr", title: "Salle — rostrum", overflow: 0, below: 0 });
  assert.equal(await fr.locator("#on .poster-kicker").textContent(), "En cours");
  assert.equal(await fr.locator("#next .poster-kicker").textContent(), "À suivre");
  assert.match(await fr.locator("#code-text").textContent(), /^Pour vous inscrire à Gouvernance .* depuis cette salle, .* code de la salle : \d{6}$/);
  assert.match(await fr.locator("#next-times").textContent(), new RegExp(`^${weekday("fr")} .* à \\d\\d:\\d\\d$`));
  assert.match(await fr.locator("#on-qr svg").getAttribute("aria-label"), /^Code QR pour s'inscrire à Gouvernance/);
  // The picker switches the page at once, and the choice is kept for the next visit.
  await fr.selectOption("#lang", "zh");
  await fr.locator("#on .poster-kicker", { hasText: "正在进行" }).waitFor();
  assert.match(await fr.locator("#code-text").textContent(), /^如要在本会场加入Gouvernance.*请扫描二维码并输入会场代码：\d{6}$/);
  assert.match(await fr.locator("#next-times").textContent(), new RegExp(weekday("zh")));
  await fr.reload();
  await fr.locator("#on .poster-kicker", { hasText: "正在进行" }).waitFor();
  await shoot({ page: fr }, "room-zh-projector");

  // In Arabic: right to left, at projector and phone sizes, nothing sticking out.
  for (const size of ["projector", "phone"]) {
    const ar = await open(room.display, size, `room-ar-${size}`, "ar-EG");
    await ar.locator("body[data-state=on]").waitFor();
    await ar.waitForFunction(() => /^\d{6}$/.test(document.getElementById("on-code").textContent));
    const seen = await layout(ar);
    assert.deepEqual({ ...seen, below: 0 }, { lang: "ar", dir: "rtl", title: "القاعة — rostrum", overflow: 0, below: 0 });
    // On the projector the whole of it shows at once, with nobody to scroll.
    if (size === "projector") assert.equal(seen.below, 0, "the room display fits the projector");
    assert.equal(await ar.locator("#on .poster-kicker").textContent(), "جارية الآن");
    assert.equal(await ar.locator("body").getAttribute("data-session"), l1);
    assert.match(await ar.locator("#next-times").textContent(), new RegExp(weekday("ar")));
    await axe({ page: ar, name: `room-ar-${size}` });
    await shoot({ page: ar }, `room-ar-${size}`);
  }
  const zhPhone = await open(room.display, "phone", "room-zh-phone", "zh-CN");
  await zhPhone.waitForFunction(() => /^\d{6}$/.test(document.getElementById("on-code").textContent));
  assert.equal((await layout(zhPhone)).overflow, 0);
  await shoot({ page: zhPhone }, "room-zh-phone");

  // The room's poster and printed programme, and its join link when nothing is left.
  const poster = await open(`${base}/rooms/${room.id}/poster#t=${ADMIN}`, "phone", "room-poster-ar", "ar");
  await poster.locator("body[data-ready=true]").waitFor();
  assert.deepEqual({ ...(await layout(poster)), below: 0 }, { lang: "ar", dir: "rtl", title: "ملصق القاعة — rostrum", overflow: 0, below: 0 });
  assert.equal(await poster.locator(".poster-note").textContent(), "يبقى هذا الملصق صالحًا لكل الجلسات في هذه القاعة.");
  assert.match(await poster.locator("#poster-qr svg").getAttribute("aria-label"), /Salle des Nations — Palais$/);
  await axe({ page: poster, name: "room-poster-ar" });
  await shoot({ page: poster }, "room-poster-ar-phone");
  const printed = await open(`${base}/rooms/${room.id}/programme#t=${ADMIN}`, "laptop", "room-programme-ru", "ru-RU");
  await printed.locator("body[data-ready=true]").waitFor();
  assert.equal(await printed.locator("#room-facts").textContent(), "300 мест · зал удалённого центра");
  assert.deepEqual(await printed.locator(`section[data-session="${l1}"] dt`).allTextContents(), ["Консоль председателя", "Консоль онлайн-модератора", "Ссылка для участников"]);
  await axe({ page: printed, name: "room-programme-ru" });

  // A room with nothing in it: its join link says so, in Russian; a broken link says why.
  const empty = JSON.parse(await api("PUT", "/api/rooms", { rooms: [{ name: "Зал Б", capacity: 40 }] })).rooms.find((r) => r.name === "Зал Б");
  const nowhere = await open(empty.join, "phone", "room-join-ru", "ru-RU");
  await nowhere.locator("body[data-state=none]").waitFor();
  assert.equal(await nowhere.locator("#title").textContent(), "В зале Зал Б нет сессий ни сейчас, ни позже.");
  assert.deepEqual({ ...(await layout(nowhere)), below: 0 }, { lang: "ru", dir: "ltr", title: "Запись — rostrum", overflow: 0, below: 0 });
  await axe({ page: nowhere, name: "room-join-ru" });
  const broken = await open(empty.join.replace(/#t=.*/, "#t=v1.forged"), "phone", "room-join-broken", "ar");
  await broken.locator("body[data-state=error]").waitFor();
  assert.equal(await broken.locator("#title").textContent(), "رابط هذا الملصق لا يعمل.");
  assert.equal(await broken.locator("html").getAttribute("dir"), "rtl");
  assert.match(await broken.locator("#error").textContent(), /^[\u0600-\u06FF]/, "the refusal said in Arabic");

  // The organizer's page leads to the event view, said in the reader's language.
  const org = await open(`${base}/organize#t=${ADMIN}`, "laptop", "organize-es", "es-ES");
  const link = org.locator("#event-link", { hasText: "El evento: salas y programa" });
  await link.waitFor();
  assert.equal(await link.getAttribute("href"), `/event#t=${ADMIN}`);

  // The event view in French, then in Arabic and Chinese on a phone and a projector.
  const chair = await open(JSON.parse(await api("GET", `/api/sessions/${l1}/links`)).links.chair, "laptop", "chair-l1");
  await chair.locator("#status[data-state=online]").waitFor();
  const ev = await open(`${base}/event#t=${ADMIN}`, "laptop", "event-fr", "fr-CH");
  await ev.locator("body[data-ready=true]").waitFor();
  assert.deepEqual({ ...(await layout(ev)), below: 0 }, { lang: "fr", dir: "ltr", title: "L'événement — rostrum", overflow: 0, below: 0 });
  assert.match(await ev.locator("#totals").textContent(), /^Séances : \d+ · salles : \d+ · en direct : [1-9]$/);
  assert.equal(await ev.locator("#days th").first().textContent(), "Début");
  const cell = ev.locator(`td[data-session="${l1}"][data-state=live]`);
  await cell.locator(".badge", { hasText: "En direct" }).waitFor();
  // Tomorrow's session runs, but nobody has it open: idle, as the organizer's page says.
  const l2 = programme.sessions.find((s) => s.external_id === "L2").session;
  await ev.locator(`td[data-session="${l2}"][data-state=idle] .badge`, { hasText: "Inactive" }).waitFor();
  await cell.locator(".figures-live", { hasText: "0 en attente · 0 participant" }).waitFor();
  await cell.locator("button", { hasText: "Liens" }).click();
  assert.equal(await cell.locator("label").first().textContent(), "Console de la présidence ");
  assert.equal(await cell.locator(".session-links button[aria-label]").first().getAttribute("aria-label"), "Copier le lien : Console de la présidence");
  const mail = decodeURIComponent(await cell.locator("a[data-mail]").getAttribute("href"));
  assert.ok(mail.startsWith("mailto:?subject=Vos liens : Gouvernance") && mail.includes("Console de la présidence : http"), mail);
  assert.match(await ev.locator("#updated").textContent(), /^Mis à jour à \d\d:\d\d:\d\d$/);
  await axe({ page: ev, name: "event-fr" });
  for (const [lang, size] of [["ar", "phone"], ["ar", "projector"], ["zh", "phone"], ["zh", "projector"]]) {
    const page = await open(`${base}/event#t=${ADMIN}`, size, `event-${lang}-${size}`, lang);
    await page.locator(`td[data-session="${l1}"][data-state=live]`).waitFor();
    const seen = await layout(page);
    assert.deepEqual([seen.lang, seen.dir, seen.overflow], [lang, lang === "ar" ? "rtl" : "ltr", 0], `event ${lang} ${size}`);
    assert.equal(await page.locator("#days th").first().textContent(), lang === "ar" ? "البداية" : "开始");
    if (lang === "ar") await axe({ page, name: `event-${lang}-${size}` });
    await shoot({ page }, `event-${lang}-${size}`);
  }
  assert.deepEqual(env.problems, []);
});
