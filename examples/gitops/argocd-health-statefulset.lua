-- Argo CD health check for apps/StatefulSet that reads statefulset-canary's state annotations
-- (statefulset-canary.io/phase, stage, target-revision, previous-revision), so the UI shows
-- Progressing while a canary runs or waits, Degraded when it halted, failed or was cancelled,
-- and Healthy once it succeeded or rolled back with every pod ready. A StatefulSet without the
-- annotations gets Argo CD's built-in StatefulSet rules.
--
-- Install: the value of resource.customizations.health.apps_StatefulSet in argocd-cm (see
-- argocd-cm.yaml beside this file). Written for Argo CD's Lua 5.1 (gopher-lua): numbers are
-- formatted with %d, never with tostring.
local hs = {}
local metadata = obj.metadata or {}
local spec = obj.spec or {}
local status = obj.status or {}
local annotations = metadata.annotations or {}
local prefix = "statefulset-canary.io/"
local phase = annotations[prefix .. "phase"]
local stage = annotations[prefix .. "stage"] or "0"
local target = annotations[prefix .. "target-revision"]
local previous = annotations[prefix .. "previous-revision"]
local replicas = spec.replicas or 1
local ready = status.readyReplicas or 0
local updated = status.updatedReplicas or 0
local strategy = spec.updateStrategy or {}
local partition = nil
if strategy.rollingUpdate ~= nil then
  partition = strategy.rollingUpdate.partition
end

local function health(state, message)
  hs.status = state
  hs.message = message
  return hs
end

-- Argo CD's own rules for a StatefulSet (gitops-engine's health_statefulset.go).
local function builtin()
  if ready < replicas then
    return health("Progressing", string.format("Waiting for %d pods to be ready...", replicas - ready))
  end
  if (strategy.type == nil or strategy.type == "RollingUpdate") and partition ~= nil then
    if updated < replicas - partition then
      return health("Progressing", string.format(
        "Waiting for partitioned roll out to finish: %d out of %d new pods have been updated...",
        updated, replicas - partition))
    end
    return health("Healthy", string.format("partitioned roll out complete: %d new pods have been updated...", updated))
  end
  if strategy.type == "OnDelete" then
    return health("Healthy", string.format("statefulset has %d ready pods", ready))
  end
  if status.updateRevision ~= status.currentRevision then
    return health("Progressing", string.format(
      "waiting for statefulset rolling update to complete %d pods at revision %s...",
      updated, status.updateRevision or ""))
  end
  return health("Healthy", string.format(
    "statefulset rolling update complete %d pods at revision %s...",
    status.currentReplicas or 0, status.currentRevision or ""))
end

if status.observedGeneration == nil or status.observedGeneration == 0
    or (metadata.generation or 0) > status.observedGeneration then
  return health("Progressing", "Waiting for statefulset spec update to be observed...")
end

local phases = {
  ["rolling-out"] = true, ["paused"] = true, ["succeeded"] = true, ["failed"] = true,
  ["halted"] = true, ["rolling-back"] = true, ["rolled-back"] = true, ["cancelled"] = true,
}
if phase == nil or not phases[phase] then
  return builtin()
end

-- A template synced after the last run (the partition parked, so no pod moved yet): the
-- action's next run gates it.
local update = status.updateRevision
if update ~= nil and target ~= nil and update ~= target and update ~= status.currentRevision then
  return health("Progressing", "revision " .. update .. " waits for its statefulset-canary canary")
end

if phase == "rolling-out" then
  return health("Progressing", "statefulset-canary: canary of revision " .. (target or "?") ..
    " at stage " .. stage .. string.format(", %d of %d pods updated, %d ready", updated, replicas, ready))
end
if phase == "rolling-back" then
  return health("Progressing", "statefulset-canary: rolling revision " .. (target or "?") ..
    " back to " .. (previous or "?"))
end
if phase == "paused" then
  return health("Progressing", "statefulset-canary: paused after stage " .. stage ..
    " of revision " .. (target or "?") .. ": promote or abort")
end
if phase == "halted" or phase == "failed" then
  return health("Degraded", "statefulset-canary: rollout of revision " .. (target or "?") .. " " .. phase ..
    " at stage " .. stage .. ": see the run linked in statefulset-canary.io/run-url")
end
if phase == "cancelled" then
  return health("Degraded", "statefulset-canary: rollout of revision " .. (target or "?") ..
    " cancelled at stage " .. stage .. ": run it again to go on, or roll back")
end
-- succeeded or rolled-back: healthy once every pod is ready.
if ready < replicas then
  return health("Progressing", string.format("Waiting for %d pods to be ready...", replicas - ready))
end
if phase == "rolled-back" then
  if update ~= nil and update == target and update ~= status.currentRevision then
    return health("Healthy", "statefulset-canary: revision " .. update ..
      " failed its canary and was rolled back; Git still holds it: revert the change in Git")
  end
  return health("Healthy", "statefulset-canary: rolled back to revision " .. (status.currentRevision or "?"))
end
return health("Healthy", "statefulset-canary: revision " .. (target or "?") ..
  string.format(" rolled out, %d pods ready", ready))
