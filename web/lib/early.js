// The socket opened as soon as the page's head is read, a round trip or more before its script
// arrives on a weak link. build.rs puts this file inline in the head of the pages that connect
// (`socket="early"`), and the CSP allows it by its hash. It guesses the hello the page's
// Connection will send (client.js): the link's token, or on the join page the participant's own
// kept from an earlier join. The Connection takes this socket, and what it has received, only
// if its own hello is the same; otherwise it closes it and opens its own.
(() => {
  try {
    const [, , session = "", role = "public"] = location.pathname.split("/");
    const raw = location.hash.replace(/^#/, "");
    let token = raw.includes("=") ? new URLSearchParams(raw).get("t") || null : raw ? decodeURIComponent(raw) : null;
    if (role === "join") token = localStorage.getItem(`rostrum:${session}:token`) ?? token;
    const hello = { type: "hello", v: 2, session };
    if (token) hello.token = token;
    const bytes = new TextEncoder().encode(JSON.stringify(hello));
    const b64 = btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    const url = `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/ws`;
    const protocols = ["rostrum", `rostrum.hello.${b64}`];
    const ws = new WebSocket(url, protocols);
    const heard = [];
    ws.onopen = ws.onmessage = ws.onclose = (e) => heard.push({ e, at: Date.now() });
    window.rostrumEarly = { ws, url, protocols, heard };
  } catch {
    // No early socket: the page's script opens its own.
  }
})();
