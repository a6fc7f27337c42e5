// Client-side routes on the History API: `/` (the programme, or sign-in), `/sessions/:id`
// (and its green room `/sessions/:id/green`),
// the exhibition hall `/expo`, `/booths/:id` and private calls `/calls/:id`. The node
// answers every such path with index.html.
import { signal } from "@preact/signals";

export type Route =
  | { page: "programme" }
  | { page: "session"; id: string }
  | { page: "presenter"; id: string }
  | { page: "green"; id: string }
  | { page: "expo" }
  | { page: "booth"; id: string }
  | { page: "call"; id: string }
  | { page: "not_found" };

function parse(pathname: string): Route {
  if (pathname === "/" || pathname === "/programme") return { page: "programme" };
  const session = /^\/sessions\/([a-z0-9-]{1,48})\/?$/.exec(pathname);
  if (session?.[1]) return { page: "session", id: session[1] };
  const presenter = /^\/sessions\/([a-z0-9-]{1,48})\/presenter\/?$/.exec(pathname);
  if (presenter?.[1]) return { page: "presenter", id: presenter[1] };
  const green = /^\/sessions\/([a-z0-9-]{1,48})\/green\/?$/.exec(pathname);
  if (green?.[1]) return { page: "green", id: green[1] };
  if (pathname === "/expo" || pathname === "/expo/") return { page: "expo" };
  const booth = /^\/booths\/([a-z0-9-]{1,48})\/?$/.exec(pathname);
  if (booth?.[1]) return { page: "booth", id: booth[1] };
  const call = /^\/calls\/([0-9a-fA-F]{1,48})\/?$/.exec(pathname);
  if (call?.[1]) return { page: "call", id: call[1] };
  return { page: "not_found" };
}

export const route = signal<Route>(parse(window.location.pathname));

export function navigate(path: string): void {
  if (path === window.location.pathname + window.location.search) return;
  window.history.pushState(null, "", path);
  route.value = parse(window.location.pathname);
}

window.addEventListener("popstate", () => {
  route.value = parse(window.location.pathname);
});

/** For `onClick` of in-app links: plain clicks navigate without a reload. */
export function followLink(event: MouseEvent): void {
  if (
    event.defaultPrevented ||
    event.button !== 0 ||
    event.metaKey ||
    event.ctrlKey ||
    event.shiftKey ||
    event.altKey
  ) {
    return;
  }
  const anchor = event.currentTarget as HTMLAnchorElement;
  event.preventDefault();
  navigate(anchor.pathname + anchor.search);
}
