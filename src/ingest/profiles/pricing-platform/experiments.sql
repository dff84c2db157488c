-- ab_tests → experiments. The seed has no start time; created_at stands in for it.
SELECT {{tenant}} AS tenant_id, t.id::text AS experiment_id, t.name, t.metric,
       lower(t.status) AS status, t.status AS raw_status,
       jsonb_build_object('A', t.variant_a, 'B', t.variant_b) AS variants, t.created_at AS started_at,
       t.created_at AS _cursor_ts
FROM ab_tests t
