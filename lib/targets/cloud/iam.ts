/** One IAM policy statement, as the workflow construct will attach it to the role that runs a sweep. */
export interface IamStatement {
  readonly Sid: string;
  readonly Effect: 'Allow';
  readonly Action: string[];
  readonly Resource: string[];
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}
