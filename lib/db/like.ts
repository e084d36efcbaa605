/** Escapes %, _ and \\ so Prisma's contains/startsWith (ILIKE underneath) match them literally. */
export const likeLiteral = (text: string) => text.replace(/[\\%_]/g, "\\$&");
