// `--members 1=zk1:2181,2=zk2,3=zk3`: the destination ensemble's servers for zookeeper.clean. Given by
// the operator: an agent's registry record carries host facts, not its ZooKeeper id, so the CLI cannot
// derive the membership from agents (and the operator's statement is what the check is about: "these
// are the servers that must be the whole ensemble").
import { InvalidInputError, type ZooKeeperMember, ZooKeeperMemberSchema } from '@drover/shared';

const MEMBER = /^(\d{1,3})=([A-Za-z0-9][A-Za-z0-9.-]{0,252})(?::(\d{1,5}))?$/;
const EXPECTED = 'ID=HOST[:CLIENT_PORT],… with distinct ids (e.g. 1=zk1:2181,2=zk2:2181,3=zk3:2181)';

export function parseMembers(text: string, flag = '--members'): ZooKeeperMember[] {
  const members = text.split(',').map((raw) => {
    const part = raw.trim();
    const match = MEMBER.exec(part);
    const parsed =
      match &&
      ZooKeeperMemberSchema.safeParse({
        id: Number(match[1]),
        host: match[2],
        ...(match[3] === undefined ? {} : { clientPort: Number(match[3]) }),
      });
    if (!parsed?.success) throw new InvalidInputError(flag, part, EXPECTED);
    return parsed.data;
  });
  const ids = members.map((m) => m.id);
  if (new Set(ids).size !== ids.length) throw new InvalidInputError(flag, text, EXPECTED);
  return members;
}
