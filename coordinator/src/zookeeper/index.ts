// Public entry of the coordinator's ZooKeeper cleaner helpers: the --members flag and the text the
// `drover zookeeper clean|restore` commands print (pure, tested without agents).
export { parseMembers } from './members.ts';
export { renderClean, renderRestore } from './render.ts';
