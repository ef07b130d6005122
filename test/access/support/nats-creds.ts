import {
  createAccount,
  createOperator,
  createUser,
  encodeAccount,
  encodeOperator,
  encodeUser,
  fmtCreds,
} from '@nats-io/jwt';

/** A decentralized-auth setup: an operator, one account, and users of that account. */
export interface OperatorSetup {
  /** nats-server configuration: operator mode with a memory resolver preloading the account. */
  readonly serverConfig: string;
  /** A new user of the account, as the text of a standard .creds file. */
  newUserCreds(name: string): Promise<UserCreds>;
}

export interface UserCreds {
  /** The .creds file: the user JWT block, then the NKey seed block. */
  readonly text: string;
  readonly jwt: string;
  readonly seed: string;
}

const UNLIMITED_ACCOUNT = {
  limits: {
    subs: -1,
    data: -1,
    payload: -1,
    imports: -1,
    exports: -1,
    wildcards: true,
    conn: -1,
    leaf: -1,
  },
};

/** Made fresh by the test, the way `nsc` would: operator signs the account, the account its users. */
export async function makeOperatorSetup(): Promise<OperatorSetup> {
  const operator = createOperator();
  const account = createAccount();
  const operatorJwt = await encodeOperator('chanfitness-test', operator);
  const accountJwt = await encodeAccount('CHANFITNESS', account, UNLIMITED_ACCOUNT, {
    signer: operator,
  });
  const serverConfig = [
    `operator: ${operatorJwt}`,
    'resolver: MEMORY',
    `resolver_preload: { ${account.getPublicKey()}: ${accountJwt} }`,
    '',
  ].join('\n');
  return {
    serverConfig,
    async newUserCreds(name) {
      const user = createUser();
      const jwt = await encodeUser(name, user, account);
      const text = new TextDecoder().decode(fmtCreds(jwt, user));
      return { text, jwt, seed: new TextDecoder().decode(user.getSeed()) };
    },
  };
}
