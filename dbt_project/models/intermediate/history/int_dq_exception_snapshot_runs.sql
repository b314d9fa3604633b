{#- One row per build that took the snapshot dq_exception_history: when, and
    what the list held. A snapshot stamps only the rows that changed, so a
    build that changed nothing leaves no trace in it; this log tells an
    exception first listed in the latest build (status new) from one listed
    before (open). Appended each build and never rebuilt: kept across
    `dbt build --full-refresh` like the snapshot. It runs after the snapshot
    (it refs it), in `dbt build` and in the Cosmos DAG alike. -#}
{{ config(materialized='incremental', full_refresh=false) }}

with history as (
    select * from {{ ref('dq_exception_history') }}
)

select
    cast(now() as timestamp) as logged_at,
    (
        select count(*) from history
        where dbt_valid_to is null
    ) as listed_exceptions,
    (select count(distinct exception_id) from history) as exceptions_ever_listed
