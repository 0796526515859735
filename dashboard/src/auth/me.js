// Who is signed in and what they may do (`GET /me`, asked once per page load): the role
// decides which pages the navigation offers and which buttons are enabled. The API checks
// every call itself; this only spares people buttons that would be refused.
import { createContext, useContext } from "../html.js";

const RANK = { viewer: 1, editor: 2, owner: 3 };

export const MeContext = createContext({ me: null, reload: () => {} });

export function useMe() {
  return useContext(MeContext).me;
}

export function useReloadMe() {
  return useContext(MeContext).reload;
}

// True when the role is known to fall short of `needed`; an unknown role is not held back.
export function lacks(me, needed) {
  if (!me || !me.role) return false;
  return (RANK[me.role] || 0) < RANK[needed];
}

export const needsWords = (role) => `needs the ${role} role`;
