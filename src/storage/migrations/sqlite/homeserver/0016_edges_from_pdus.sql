-- An event's prev and auth edges are the prev_events and auth_events of its PDU, which `events` stores
-- whole: event_edges repeated them for every event written and was read by nothing on a serving path.
-- The graph's readers (event_graph_store::prev_events, auth_events) take them from the stored PDU; the
-- reverse direction the pipeline needs (which received events wait for a missing one) stays in
-- missing_prev_events, and what nothing follows yet in forward_extremities.
DROP TABLE event_edges;
