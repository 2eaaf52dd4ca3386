import { array, object, optionalObject, optionalString, sha, string } from './payload.js'
import type { Delivery, RefUpdate } from './types.js'

/**
 * Bitbucket Server / Data Center's push, `repo:refs_changed` (Atlassian, "Event payload", Bitbucket Data
 * Center): `changes[]` of {ref: {id: refs/heads/<b> | refs/tags/<t>, type: BRANCH | TAG}, refId, fromHash,
 * toHash, type: ADD | UPDATE | DELETE}, `repository.links.clone[].href` and `.self[].href`, `actor.name`.
 */
export function refsChanged (payload: Record<string, unknown>): Pick<Delivery, 'updates' | 'repositoryUrls' | 'sender'> {
  const changes = array(payload.changes, 'changes')
  const links = optionalObject(optionalObject(payload.repository).links)
  const actor = optionalObject(payload.actor)
  return {
    updates: changes.map((entry, i) => refUpdate(object(entry, `changes[${i}]`), `changes[${i}]`)),
    repositoryUrls: [...hrefs(links.clone), ...hrefs(links.self)],
    sender: optionalString(actor.name) ?? optionalString(actor.displayName)
  }
}

function refUpdate (change: Record<string, unknown>, at: string): RefUpdate {
  // refId is the older field; ref.id the newer one: the same full ref name.
  const ref = optionalString(optionalObject(change.ref).id) ?? string(change.refId, `${at}.ref.id`)
  // A deleted ref's toHash is all zeros: there is no commit to build.
  if (change.type === 'DELETE') return { ref, commit: null, deleted: true }
  return { ref, commit: sha(change.toHash, `${at}.toHash`), deleted: false }
}

/** The `href` of each `{href, name}` link of a list (clone: http and ssh; self: the browse page). */
function hrefs (list: unknown): string[] {
  if (!Array.isArray(list)) return []
  return list.map(link => optionalString(optionalObject(link).href)).filter((href): href is string => href !== null)
}
