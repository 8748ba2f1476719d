// Changes the server announced (GET /events), passed to whichever view is open. `ready` means the stream is
// (re)connected: views reload what they show then, so nothing that happened while it was down is missed.
import { useEffect, useRef } from 'preact/hooks';
import type { StreamEvent } from '../../control/api-schema.js';

export class Live extends EventTarget {
  /** the stream is reading: a view that mounts now loads at once; before that it waits for `ready` */
  ready = false;
  emitChange(e: StreamEvent): void {
    this.dispatchEvent(new CustomEvent<StreamEvent>('change', { detail: e }));
  }
  emitReady(): void {
    this.ready = true;
    this.dispatchEvent(new Event('ready'));
  }
  lost(): void {
    this.ready = false;
  }
}

/** Run `onChange` for matching topics and `onReady` on every (re)connect, while the component is mounted. */
export function useLive(live: Live, topics: readonly string[], onChange: (e: StreamEvent) => void, onReady: () => void): void {
  // The latest callbacks, subscribed once: no event slips through a re-subscription.
  const handlers = useRef({ onChange, onReady, topics });
  handlers.current = { onChange, onReady, topics };
  useEffect(() => {
    const change = (ev: Event) => {
      const e = (ev as CustomEvent<StreamEvent>).detail;
      const h = handlers.current;
      if (h.topics.some((t) => e.topic === t || (t.endsWith('.*') && e.topic.startsWith(t.slice(0, -1))))) h.onChange(e);
    };
    const ready = () => handlers.current.onReady();
    live.addEventListener('change', change);
    live.addEventListener('ready', ready);
    return () => {
      live.removeEventListener('change', change);
      live.removeEventListener('ready', ready);
    };
  }, [live]);
}
