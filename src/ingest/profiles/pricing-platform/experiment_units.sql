-- ab_test_results → experiment_units: one row per unit (the result row's id).
SELECT {{tenant}} AS tenant_id, r.test_id::text AS experiment_id, r.id::text AS unit_id, upper(r.variant) AS variant,
       r.converted, r.revenue, r.timestamp AS ts,
       r.timestamp AS _cursor_ts
FROM ab_test_results r
