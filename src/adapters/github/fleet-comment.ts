// The one sticky comment of a fleet run (more than one StatefulSet or context; engine/fleet.ts):
// it stands in for the comment of each StatefulSet. Every report marks the view as changed; the
// writes go through one publish queue slot, so however many StatefulSets report at once there is
// never more than one fleet comment write in flight, and a write that waited sends the newest
// view. Each write also waits its turn under the run's edit pacing (edit-pacer.ts: 10 s apart).
// When the run ends (flush), members that never reported are shown as not rolled out, and that
// final view is written last.
import { type Fleet, isFleet, memberKey } from '../../engine/fleet.ts';
import type { RolloutReport } from '../../engine/report.ts';
import { fleetMarker } from './comment.ts';
import { publishSticky, type Sticky, StickyComments } from './comment-publisher.ts';
import type { Repository } from './context.ts';
import { renderFleet } from './markdown/fleet.ts';
import { createPublishQueue } from './publish-queue.ts';
import type { GitHubSession } from './session.ts';

export interface FleetComment {
  /** The run's fleet; the comment is on when it holds more than one member. */
  setFleet(fleet: Fleet): void;
  /** Whether this run reports on one fleet comment (instead of one per StatefulSet). */
  readonly active: boolean;
  /** A member reported: the newest view goes out in turn; resolves once it (or a newer) did. */
  update(report: RolloutReport, repository: Repository): Promise<void>;
  /** The run ended: the final view (unreported members not rolled out) goes out last. */
  end(repository: Repository | undefined): Promise<void>;
}

export function createFleetComment(
  session: GitHubSession,
  pullRequests: () => Promise<readonly number[]>,
): FleetComment {
  let fleet: Fleet | undefined;
  let ended = false;
  const reports = new Map<string, RolloutReport>();
  const comments = new StickyComments(session);
  const sticky = (shown: Fleet): Sticky => ({
    marker: fleetMarker(shown),
    planMarker: undefined,
    subject: 'this run’s StatefulSets',
    body: () => {
      const members = shown.waves.flatMap((w) => w.members);
      const final =
        ended ||
        members.every((m) => (reports.get(memberKey(m))?.verdict ?? 'in-progress') !== 'in-progress');
      return { body: renderFleet(shown, reports, { marker: fleetMarker(shown), ended }), final };
    },
  });
  const queue = createPublishQueue<Repository>(
    async (repository) => {
      if (fleet !== undefined)
        await publishSticky(session, comments, pullRequests, sticky(fleet), repository);
    },
    (error) => session.log.warning(`GitHub reporting failed unexpectedly: ${(error as Error).message}`),
  );
  return {
    setFleet(given) {
      fleet = isFleet(given) ? given : undefined;
    },
    get active() {
      return fleet !== undefined;
    },
    update(report, repository) {
      reports.set(memberKey(report), report);
      return queue.push('fleet', repository);
    },
    async end(repository) {
      await queue.drained();
      if (fleet === undefined || repository === undefined || reports.size === 0) return;
      ended = true;
      await queue.push('fleet', repository);
    },
  };
}
