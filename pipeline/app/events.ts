import type { CoreEvents } from '../api/event-bus';
import type { TaskEvents } from '../tasks/task-runner';
import type { AlertEvents } from '../alerts/alert-handlers';
import type { ProducerEvents } from '../docker/producer-handlers';

/**
 * Every event the backend pushes to the UI: the core events and each domain's own. A new
 * domain's events are declared next to its code and joined here; the renderer's `on()` is typed
 * from this map (pipeline/app/contract.ts).
 */
export type EventMap = CoreEvents & TaskEvents & AlertEvents & ProducerEvents;
export type EventName = keyof EventMap;
